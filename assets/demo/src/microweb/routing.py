"""Exact-path routing for microweb."""


class Router:
    def __init__(self):
        self.routes = {}

    def add(self, path):
        def register(handler):
            self.routes[path] = handler
            return handler

        return register

    def find(self, path):
        return self.routes.get(path)
