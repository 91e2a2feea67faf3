def run_command(argv):
    if argv[:1] == ["init-db"]:
        from .models import base

        base.connect(":memory:")
