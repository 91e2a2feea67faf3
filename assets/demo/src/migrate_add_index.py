"""Migration: add index."""
import sqlite3
import sys

SQL = "CREATE INDEX IF NOT EXISTS users_name ON users (name)"


def migrate(conn):
    conn.execute(SQL)
    conn.commit()


if __name__ == "__main__":
    migrate(sqlite3.connect(sys.argv[1]))
