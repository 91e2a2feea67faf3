from dbtool.registry import command


@command("status")
def run(argv):
    print("status", argv)
    return 0
