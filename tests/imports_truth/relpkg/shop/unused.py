from . import util  # noqa: F401  (nothing imports this module)
