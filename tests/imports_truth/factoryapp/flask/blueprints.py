class Blueprint:
    def __init__(self, name, import_name, url_prefix=None):
        self.name = name
        self.import_name = import_name
        self.url_prefix = url_prefix
        self.routes = []

    def route(self, rule, **options):
        def decorator(f):
            self.routes.append((rule, f))
            return f

        return decorator
