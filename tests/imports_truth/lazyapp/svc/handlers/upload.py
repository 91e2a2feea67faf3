def handle():
    return "uploaded"
