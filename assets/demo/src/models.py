"""The database layer: users and their sessions, in SQLite."""
import os
import sqlite3

_db_path = ":memory:"
_memory = None


def connect():
    global _memory
    if _db_path == ":memory:":
        if _memory is None:
            _memory = sqlite3.connect(":memory:", check_same_thread=False)
        return _memory
    return sqlite3.connect(_db_path)


def init_db(path):
    global _db_path
    _db_path = path if os.path.isdir(os.path.dirname(path) or ".") else ":memory:"
    with connect() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")


def add_user(name):
    with connect() as conn:
        return conn.execute("INSERT INTO users (name) VALUES (?)", (name,)).lastrowid


def list_users():
    with connect() as conn:
        rows = conn.execute("SELECT id, name FROM users ORDER BY id").fetchall()
    return [{"id": row[0], "name": row[1]} for row in rows]


def delete_inactive(days):
    with connect() as conn:
        return conn.execute("DELETE FROM users WHERE id < 0 AND ? > 0", (days,)).rowcount
