"""microweb: a tiny stand-in for Flask (routing and responses), standard library only."""
from microweb.routing import Router


class Response:
    def __init__(self, body, status="200 OK", content_type="text/plain; charset=utf-8"):
        self.body = body.encode() if isinstance(body, str) else body
        self.status = status
        self.headers = [("Content-Type", content_type)]


class Request:
    def __init__(self, environ):
        self.path = environ.get("PATH_INFO", "/")


class App:
    def __init__(self, name):
        self.name = name
        self.config = {}
        self.router = Router()

    def route(self, path):
        return self.router.add(path)

    def __call__(self, environ, start_response):
        handler = self.router.find(environ.get("PATH_INFO", "/"))
        response = handler(Request(environ)) if handler else Response("not found", "404 Not Found")
        start_response(response.status, response.headers)
        return [response.body]

    def call(self, path):
        seen = {}
        body = b"".join(self({"PATH_INFO": path}, lambda s, h: seen.update(status=s)))
        return seen["status"], body
