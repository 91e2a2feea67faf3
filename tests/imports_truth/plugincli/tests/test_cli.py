import cli


def test_status():
    assert cli.main(["status"]) == 0
