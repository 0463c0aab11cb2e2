"""The `custom` family has no kernels: `Custom` runs the user's Python code (mxplug.operator)."""

from __future__ import annotations


def make_kernels(xp) -> dict:
    return {}
