from blog.factory import create_test_app


def test_app():
    assert create_test_app().app.blueprints
