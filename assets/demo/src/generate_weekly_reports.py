"""Cron job: write last week's report for every class."""
import sys

import models
from reports.weekly import render


def main():
    models.init_db(":memory:")
    sys.stdout.write(render(models.list_users()))


if __name__ == "__main__":
    main()
