import helper_of_broken


def oops(:
    pass
