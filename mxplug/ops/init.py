"""Creation operators (`_zeros`, `_ones`, `_full`, `_arange`, `_eye`, `_linspace`)."""

from __future__ import annotations

import math

from ..base import MXNetError, ShapeError
from . import infer
from ._util import spec


@infer("_zeros", "_ones", "_full")
def _filled(attrs):
    if any(s < 0 for s in attrs["shape"]):
        raise ShapeError(f"shape {attrs['shape']} has a negative dimension")
    return spec(attrs["shape"], attrs["dtype"])


def arange_length(start: float, stop: float | None, step: float) -> int:
    if stop is None:
        start, stop = 0.0, start
    if step == 0:
        raise MXNetError("operator '_arange': step must not be 0")
    return max(0, int(math.ceil((stop - start) / step)))


@infer("_arange")
def _arange(attrs):
    if attrs["repeat"] < 1:
        raise MXNetError(f"operator '_arange': repeat must be >= 1, got {attrs['repeat']}")
    n = arange_length(attrs["start"], attrs["stop"], attrs["step"])
    return spec((n * attrs["repeat"],), attrs["dtype"])


@infer("_eye")
def _eye(attrs):
    n, m = attrs["N"], attrs["M"] or attrs["N"]
    if n < 0 or m < 0:
        raise ShapeError(f"operator '_eye': N and M must be >= 0, got N={n}, M={attrs['M']}")
    return spec((n, m), attrs["dtype"])


@infer("_linspace")
def _linspace(attrs):
    if attrs["num"] < 0:
        raise ShapeError(f"operator '_linspace': num must be >= 0, got {attrs['num']}")
    return spec((attrs["num"],), attrs["dtype"])
