"""Migration: split names."""
import sqlite3
import sys

SQL = "ALTER TABLE users ADD COLUMN last_name TEXT"


def migrate(conn):
    conn.execute(SQL)
    conn.commit()


if __name__ == "__main__":
    migrate(sqlite3.connect(sys.argv[1]))
