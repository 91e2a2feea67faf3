from flask import Blueprint

from ..models.post import Post

bp = Blueprint("posts", __name__)


@bp.route("/")
def index():
    return [Post("hello", "world").title]


@bp.route("/export")
def export():
    # Only when someone asks for an export: a lazy import.
    from ..reports import export_posts

    return export_posts()
