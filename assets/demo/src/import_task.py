"""One-off import of users from a CSV export of the old system."""
import csv
import sys

import models


def import_users(path):
    with open(path, newline="") as f:
        return [models.add_user(row["name"]) for row in csv.DictReader(f)]


if __name__ == "__main__":
    models.init_db(":memory:")
    print(len(import_users(sys.argv[1])), "users imported")
