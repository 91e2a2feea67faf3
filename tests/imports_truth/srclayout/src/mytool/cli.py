from mytool import core


def main():
    return core.run()
