"""Production entry point, like the seed's run.py (waitress replaced by a local stand-in)."""
from server_standin import serve
from app import app, init_app

if __name__ == "__main__":
    init_app()
    serve(app, host="127.0.0.1", port=8080)
