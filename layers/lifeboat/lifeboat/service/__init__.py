"""Use cases the Lambda handlers and the CLI call."""
