from .base import Money


def cents(x):
    return Money(x * 100)
