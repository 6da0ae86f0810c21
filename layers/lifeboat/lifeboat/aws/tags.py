"""AWS's two shapes of tags: ``[{"Key": k, "Value": v}, ...]`` on the wire, a dict in Lifeboat."""

from __future__ import annotations


def tag_dict(tag_list: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list or []}


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]
