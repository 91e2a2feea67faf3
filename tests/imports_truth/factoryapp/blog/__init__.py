"""The blog package: the factory is re-exported here, like most Flask tutorials do."""
from .factory import create_app

__all__ = ["create_app"]
