import models


def test_models():
    assert models is not None
