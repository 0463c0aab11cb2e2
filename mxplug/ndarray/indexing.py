"""NDArray indexing and slice assignment with MXNet's rules."""

from __future__ import annotations


def getitem(arr, key):
    raise NotImplementedError


def setitem(arr, key, value):
    raise NotImplementedError
