"""Sizes as people read them, for the messages of limits."""

from __future__ import annotations


def human_size(n: int) -> str:
    """Bytes as KB or MB."""
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{n / 1024:.0f} KB"
