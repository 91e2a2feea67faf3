"""Nightly LDAP sync, shipped by the school's IT as bytecode only (no source)."""


def sync(users):
    return {"synced": len(users)}
