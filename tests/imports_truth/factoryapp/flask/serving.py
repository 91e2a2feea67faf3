def run_simple(host, port, app):
    raise SystemExit("the stand-in does not serve")
