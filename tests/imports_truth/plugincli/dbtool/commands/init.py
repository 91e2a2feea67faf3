from dbtool.registry import command


@command("init")
def run(argv):
    print("init", argv)
    return 0
