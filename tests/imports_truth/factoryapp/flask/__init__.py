"""A tiny stand-in for Flask: just enough of its API for the blog (no network, no deps)."""
from .app import Flask
from .blueprints import Blueprint

__all__ = ["Flask", "Blueprint"]
