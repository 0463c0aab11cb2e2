"""Creation operators (`_zeros`, `_ones`, `_full`, `_arange`, `_eye`, `_linspace`)."""

from __future__ import annotations

import math

from ..base import OperatorAttributeError, ShapeError
from . import infer
from ._util import spec


def _filled(op: str):
    def rule(attrs):
        if any(s < 0 for s in attrs["shape"]):
            raise ShapeError(f"operator '{op}': shape {attrs['shape']} has a negative dimension")
        return spec(attrs["shape"], attrs["dtype"])

    return rule


for _op in ("_zeros", "_ones", "_full"):
    infer(_op)(_filled(_op))


def arange_length(start: float, stop: float | None, step: float) -> int:
    """The number of values of arange (before repeat); MXNet rejects a step of 0 and an empty range."""
    if stop is None:
        start, stop = 0.0, start
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise OperatorAttributeError(f"operator '_arange': start, stop and step must be finite, got "
                                     f"({start}, {stop}, {step})")
    if step == 0:
        raise OperatorAttributeError("operator '_arange': step must not be 0")
    if (step > 0 and not start < stop) or (step < 0 and not start > stop):
        raise OperatorAttributeError(
            f"operator '_arange': the range (start, stop, step) = ({start}, {stop}, {step}) is empty "
            f"(MXNet requires start {'<' if step > 0 else '>'} stop)"
        )
    return math.ceil((stop - start) / step)


@infer("_arange")
def _arange(attrs):
    if attrs["repeat"] < 1:
        raise OperatorAttributeError(f"operator '_arange': repeat must be >= 1, got {attrs['repeat']}")
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
