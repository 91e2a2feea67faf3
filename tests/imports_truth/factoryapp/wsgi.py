"""Production entry point (gunicorn wsgi:app): the application factory runs at import."""
from blog import create_app

app = create_app()
