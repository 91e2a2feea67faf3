"""Reports sent to teachers."""
