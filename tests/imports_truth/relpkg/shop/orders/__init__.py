__all__ = ["pricing", "refunds"]
