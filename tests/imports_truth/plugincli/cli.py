"""The dbtool command line: commands and output formats register themselves at import."""
import importlib
import sys

from dbtool import registry
from dbtool.settings import load_settings

# Every command module registers itself when imported.
for name in ("init", "migrate", "status"):
    importlib.import_module("dbtool.commands." + name)

FORMATS = ["table", "csv"]
for fmt in FORMATS:
    importlib.import_module(f"dbtool.formats.{fmt}")

settings = load_settings()
registry.load_plugins(settings.plugins)
registry.load_builtin_plugins()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    command = registry.COMMANDS.get(argv[0] if argv else "status")
    if command is None:
        from dbtool.help import usage

        print(usage())
        return 2
    return command(argv[1:])


if __name__ == "__main__":
    sys.exit(main([]))
