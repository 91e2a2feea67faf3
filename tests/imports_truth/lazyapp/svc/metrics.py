COUNTS = {}


def count(path):
    COUNTS[path] = COUNTS.get(path, 0) + 1
