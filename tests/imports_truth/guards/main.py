"""Imports that only sometimes run: TYPE_CHECKING, functions, try/except, version tests,
import_module/__import__ with literals, a dynamic name, and a module with a syntax error."""
import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typed_only import Thing  # noqa: F401

try:
    import not_installed_json as json_impl  # missing: the fallback runs
except ImportError:
    import slow_json as json_impl

try:
    import primary  # present: the fallback never runs
except ImportError:
    import never_fallback  # noqa: F401

if sys.version_info >= (3, 0):
    import modern  # noqa: F401
else:
    import legacy  # noqa: F401

plugin = importlib.import_module("plugins_dyn.loaded")
__import__("dunder_target")
name = "plugins_dyn." + "other"
other = importlib.import_module(name)  # a name built from constants: pycache follows it

try:
    import broken  # noqa: F401  (a syntax error: Python cannot import it)
except SyntaxError:
    pass


def later():
    import lazy_mod
    return lazy_mod


# A name from the environment: pycache lists it as unresolved.
import os  # noqa: E402

backend = importlib.import_module(os.environ.get("GUARDS_BACKEND", "plugins_dyn.loaded"))

print(json_impl.NAME, primary.NAME, plugin.NAME, other.NAME)
