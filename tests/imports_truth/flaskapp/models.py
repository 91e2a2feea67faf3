import sqlite3

from utils import slugify


class Database:
    def __init__(self, url):
        self.url = url
        self.name = slugify(url)

    def connect(self):
        return sqlite3.connect(self.url)
