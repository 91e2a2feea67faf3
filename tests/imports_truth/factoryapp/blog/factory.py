"""The application factory: every import in here runs when wsgi.py calls create_app()."""
import os

from flask import Flask

from .extensions import db, mail


def create_app(config_name=None):
    from . import config

    app = Flask(__name__)
    app.config.from_object(config.by_name(config_name or os.environ.get("BLOG_ENV", "production")))
    db.init_app(app)
    mail.init_app(app)
    register_blueprints(app)
    register_error_handlers(app)
    return app


def register_blueprints(app):
    from .views.auth import bp as auth_bp
    from .views.posts import bp as posts_bp
    from .views import admin

    app.register_blueprint(auth_bp)
    app.register_blueprint(posts_bp)
    app.register_blueprint(admin.bp)


def register_error_handlers(app):
    from .errors import handlers

    app.error_handlers = handlers()


def create_test_app():
    # Only the test suite calls this.
    from flask.testing import FlaskClient

    app = create_app("testing")
    return FlaskClient(app)
