# Re-export: importing `shop` runs core.base too.
from .core.base import Money  # noqa: F401
