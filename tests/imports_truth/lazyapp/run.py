"""A 3.15 service that defers its imports with PEP 810 `lazy import`; some are used at
module level (reified at start), some only inside request handlers (loaded on first use)."""
lazy import svc.settings
lazy from svc.logging_setup import configure
lazy import svc.metrics
lazy import svc.handlers.upload
lazy from svc.handlers import reports

from svc import app

configure(svc.settings.LOG_LEVEL)
APP = app.build(svc.settings.ROUTES)


def handle(path):
    if path == "/upload":
        return svc.handlers.upload.handle()
    if path == "/reports":
        return reports.handle()
    svc.metrics.count(path)
    return APP.route(path)


if __name__ == "__main__":
    print(APP.route("/"))
