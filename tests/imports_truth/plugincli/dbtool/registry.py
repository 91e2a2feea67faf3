"""Where commands, formats and plugins register; plugins load by name."""
import importlib

COMMANDS = {}
FORMATS = {}
BUILTIN_PLUGINS = ("audit", "timing")


def command(name):
    def register(f):
        COMMANDS[name] = f
        return f

    return register


def output_format(name):
    def register(cls):
        FORMATS[name] = cls
        return cls

    return register


def load_plugins(names):
    # Names come from the user's settings: not knowable from the source.
    for name in names:
        importlib.import_module(name)


def load_builtin_plugins():
    for name in BUILTIN_PLUGINS:
        importlib.import_module("dbtool.plugins." + name)
