"""Data: the validated :class:`Panel`, file readers and city-name harmonisation."""

from __future__ import annotations

from typing import Any

from agglomera.data.panel import Panel

__all__ = ["Panel", "harmonise_cities", "read", "read_yearbook"]


def __getattr__(name: str) -> Any:
    if name == "read":
        from agglomera.data.readers import read

        return read
    if name == "read_yearbook":
        from agglomera.data.yearbook import read_yearbook

        return read_yearbook
    if name == "harmonise_cities":
        from agglomera.data.harmonise import harmonise_cities

        return harmonise_cities
    raise AttributeError(f"module 'agglomera.data' has no attribute {name!r}")
