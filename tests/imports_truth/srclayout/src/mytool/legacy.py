import mytool.core  # nothing imports this module
