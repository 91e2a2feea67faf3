import os


class Settings:
    def __init__(self, plugins):
        self.plugins = plugins


def load_settings():
    extra = os.environ.get("DBTOOL_PLUGINS", "")
    return Settings([p for p in extra.split(",") if p])
