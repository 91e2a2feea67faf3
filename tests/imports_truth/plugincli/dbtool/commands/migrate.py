from dbtool.registry import command


@command("migrate")
def run(argv):
    print("migrate", argv)
    return 0


def plan():
    from dbtool.migrations import planner

    return planner.steps()
