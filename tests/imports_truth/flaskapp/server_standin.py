"""Stands in for waitress.serve so the ground-truth run needs no third-party package."""


def serve(app, host, port):
    return (app, host, port)
