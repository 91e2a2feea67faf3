NAME = "audit"
