"""The Flask-style application: imports config, models and utils at module level."""
import os

import config
from models import Database
from utils import slugify

try:
    import flask  # noqa: F401  (absent here: the stand-in below runs instead)
except ImportError:
    flask = None


class App:
    def __init__(self, name):
        self.name = name
        self.config = config.Settings()


app = App(__name__)


def init_app():
    db = Database(os.environ.get("DB", ":memory:"))
    return db, slugify(app.name)


def export_reports():
    # Only when someone calls it: a lazy import.
    import reports
    return reports.weekly()
