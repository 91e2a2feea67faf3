"""Maintenance commands; run by hand, never by the service."""
import sys

from blog.cli import run_command

if __name__ == "__main__":
    run_command(sys.argv[1:])
