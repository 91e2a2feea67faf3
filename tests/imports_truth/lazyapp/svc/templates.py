class Loader:
    def render(self, path):
        return f"<h1>{path}</h1>"
