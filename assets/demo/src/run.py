"""Production entry point: serve the app with waitress when it is installed.

    python run.py            serve on http://127.0.0.1:8080
    python run.py --check    import and initialise everything, then exit
"""
import sys

from app import app, init_app


def main(argv):
    init_app()
    if "--check" in argv:
        print("ok: app initialised")
        return 0
    try:
        from waitress import serve
    except ImportError:
        # waitress is not installed: the standard library's server will do for a demo.
        from wsgiref.simple_server import make_server

        with make_server("127.0.0.1", 8080, app) as server:
            server.serve_forever()
    else:
        serve(app, host="127.0.0.1", port=8080, threads=4)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
