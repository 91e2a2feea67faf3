from .base import connect


class User:
    def __init__(self, name):
        self.name = name

    @classmethod
    def load(cls, db_path, name):
        connect(db_path)
        return cls(name)
