"""Lifeboat: serverless disaster-recovery orchestration for AWS (core library)."""

from __future__ import annotations

__version__ = "0.1.0"
