"""Settings from the environment, with defaults for a development checkout."""
import os

DEFAULTS = {
    "DATABASE": "instance/lernmanager.sqlite3",
    "SECRET_KEY": "dev-only-not-secret",
    "ANALYTICS_BATCH": "50",
}


def load(environ=None):
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for key in DEFAULTS:
        value = environ.get("LERNMANAGER_" + key)
        if value:
            settings[key] = value
    settings["ANALYTICS_BATCH"] = int(settings["ANALYTICS_BATCH"])
    return settings
