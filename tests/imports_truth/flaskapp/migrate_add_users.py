"""A one-off migration: run by hand, never imported by the application."""
from models import Database

if __name__ == "__main__":
    Database("app.db").connect()
