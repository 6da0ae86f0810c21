"""The operation state table."""
