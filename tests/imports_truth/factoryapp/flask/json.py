import json


class DefaultJSONProvider:
    def __init__(self, app):
        self.app = app

    def dumps(self, obj):
        return json.dumps(obj)
