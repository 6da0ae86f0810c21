"""The plugin tests' ``account`` fixture, defined with the rest of their set-up in ``plugin_aws.py``."""

from __future__ import annotations

from .plugin_aws import account

__all__ = ["account"]
