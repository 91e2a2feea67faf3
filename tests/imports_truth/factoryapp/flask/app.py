class Config(dict):
    def from_object(self, obj):
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)


class Flask:
    def __init__(self, import_name):
        # Like Flask, the JSON provider is set up when the app is created.
        from .json import DefaultJSONProvider

        self.import_name = import_name
        self.config = Config()
        self.json = DefaultJSONProvider(self)
        self.blueprints = {}
        self.extensions = {}

    def register_blueprint(self, bp):
        self.blueprints[bp.name] = bp

    def run(self, host="127.0.0.1", port=5000):
        from .serving import run_simple

        run_simple(host, port, self)
