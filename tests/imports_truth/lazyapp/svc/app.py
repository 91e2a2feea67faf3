lazy import svc.templates
lazy import svc.cache


class App:
    def __init__(self, routes):
        self.routes = routes
        self.templates = svc.templates.Loader()

    def route(self, path):
        return self.templates.render(path)


def build(routes):
    return App(routes)


def warm():
    return svc.cache.fill()
