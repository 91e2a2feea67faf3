class Post:
    def __init__(self, title, body):
        self.title = title
        self.body = body
