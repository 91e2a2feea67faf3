def fill():
    return {}
