import os


class Settings:
    DEBUG = os.environ.get("DEBUG") == "1"
