from models import Database


def weekly():
    return Database(":memory:")
