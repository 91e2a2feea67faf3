import utils


def test_utils():
    assert utils is not None
