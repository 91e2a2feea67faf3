import pathlib
import sys

for p in pathlib.Path(".").rglob("*.pyc"):
    print(p, file=sys.stderr)
