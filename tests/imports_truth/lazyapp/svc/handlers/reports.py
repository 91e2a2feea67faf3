def handle():
    return "reports"
