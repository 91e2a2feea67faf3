"""Migration: drop the plain-text password column (deleted once it ran everywhere)."""
import sqlite3
import sys


def migrate(conn):
    conn.execute("ALTER TABLE users DROP COLUMN password_plain")
    conn.commit()


if __name__ == "__main__":
    migrate(sqlite3.connect(sys.argv[1]))
