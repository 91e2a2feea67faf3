"""The web application: routes and start-up, on the microweb stand-in for Flask."""
import analytics_queue
import config
import models
from microweb import App, Response

app = App(__name__)


def init_app():
    app.config.update(config.load())
    models.init_db(app.config["DATABASE"])
    analytics_queue.start()


@app.route("/")
def index(request):
    analytics_queue.log_event("index", request.path)
    names = ", ".join(user["name"] for user in models.list_users())
    return Response(f"users: {names or 'none yet'}\n")


@app.route("/export.csv")
def export_csv(request):
    # Imported on the first export only, so a fresh server has never cached utils.
    from utils import rows_to_csv

    return Response(rows_to_csv(models.list_users()), content_type="text/csv")
