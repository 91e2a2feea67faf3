"""Extension objects, created unbound and bound to the app inside the factory."""


class Database:
    def __init__(self):
        self.app = None

    def init_app(self, app):
        # The driver is chosen when the app is bound, like Flask-SQLAlchemy's engine.
        from .models import base

        self.app = app
        self.engine = base.connect(app.config.get("DATABASE", ":memory:"))
        app.extensions["db"] = self


class Mail:
    def init_app(self, app):
        app.extensions["mail"] = self

    def send(self, message):
        from .mailer import deliver

        deliver(message)


db = Database()
mail = Mail()
