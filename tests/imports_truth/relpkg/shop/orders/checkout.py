from ..core.base import Money
from . import pricing
from .. import util
from .sub import deep


def total():
    return Money(util.double(pricing.price()) + deep.LEVEL)
