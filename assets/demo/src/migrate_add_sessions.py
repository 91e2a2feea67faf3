"""Migration: add sessions."""
import sqlite3
import sys

SQL = "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, user_id INTEGER)"


def migrate(conn):
    conn.execute(SQL)
    conn.commit()


if __name__ == "__main__":
    migrate(sqlite3.connect(sys.argv[1]))
