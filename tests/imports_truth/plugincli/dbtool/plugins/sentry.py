"""Enabled only through DBTOOL_PLUGINS."""
NAME = "sentry"
