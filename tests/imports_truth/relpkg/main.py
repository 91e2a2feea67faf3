"""Relative imports at several levels, __init__ re-exports, and `from pkg import *` with __all__."""
import shop.orders.checkout
from shop.orders import *  # noqa: F403  (imports the submodules named in __all__)

print(shop.orders.checkout.total())
