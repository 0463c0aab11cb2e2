"""NDArray indexing (`x[key]`) and assignment (`x[key] = value`) with MXNet 1.9's rules, from registry operators.

Only the key is handled here, on the host (it is Python data: ints, slices, lists); the array itself goes
through registry operators, so every backend with their kernels supports indexing, and autograd records it.

Reading, as MXNet 1.9's legacy NDArray does it:

- Basic keys (ints, slices with any step, None, Ellipsis) select a region with `slice`. A region that is
  contiguous in memory comes from `_slice_view` and shares x's memory (writes through either are seen by the
  other); any other region is a copy. An integer removes its axis, None inserts one; a result with no axes
  left has shape (1,): `x[1]` on a 1-D array, `x[1, 2]` on a 2-D one. `x[:]` and `x[()]` return x itself.
- A key with an integer array (list, tuple, range, NumPy array, NDArray; floats truncate) selects with
  `gather_nd` (a copy), laid out as NumPy's advanced indexing lays it out; integers in such a key count as
  arrays. The axes of None entries land where MXNet puts them, which differs from NumPy when None follows
  adjacent arrays (`x[[1, 0], None]` has shape (1, 2, …), NumPy's (2, 1, …)).
- Boolean masks: MXNet 1.9 rejects boolean NDArrays in legacy mode (they need mx.np), and so does mxplug.
  Lists and NumPy arrays of booleans are read as 0/1 integer indices, as MXNet 1.9 reads them; a Python bool
  is an int (`x[True]` is `x[1]`).

Writing computes the whole new array with `_slice_assign`, `_slice_assign_scalar` or `_scatter_set_nd` and
copies it into x's own memory, so x's views, and the arrays x is a view of, see the change. The value (a
number, NDArray, NumPy array or list) is cast to x's dtype and broadcast to the selected region.

Where MXNet 1.9 crashes or returns garbage, mxplug does what NumPy does instead: empty slices anywhere
(`x[:, 2:1]`, `x[2:1]`), negative and out-of-range indices in assignments (`x[[-1]] = v` writes the last row,
`x[[5]] = v` raises IndexingError), and a 0-d integer array as a key. Out-of-range errors name the true axis
(MXNet names axis 0 for `x[1, 5]`). Autograd: assigning into an array that is in the recorded graph raises as
in MXNet; assigning a recorded value into an array outside the graph is recorded, so gradients flow to the
value (MXNet refuses that unless the whole array is assigned).
"""

from __future__ import annotations

import numbers
from math import prod
from typing import Any

import numpy as np

from ..autograd import _RECORDING
from ..base import AutogradError, DTypeError, IndexingError, ShapeError
from ..ops.index import key_attrs
from .ndarray import NDArray, _assign

__all__ = ["getitem", "setitem"]

Item = Any  # int | slice | None | np.ndarray (int64) | NDArray


# -- keys ----------------------------------------------------------------------------------------------------------
def _item(k: Any) -> Item:
    """One element of a key, normalised: int, slice, None, an int64 NumPy array, or an NDArray."""
    if k is None:
        return None
    if isinstance(k, slice):
        return _checked_slice(k)
    if isinstance(k, (int, np.integer)):
        return int(k)  # a Python bool is an int, as in MXNet
    if isinstance(k, NDArray):
        if k.dtype is np.bool_:
            raise IndexingError(
                "boolean NDArray masks are not supported by MXNet 1.9's legacy NDArray (they need mx.np); "
                "use mx.nd.contrib.boolean_mask, or integer indices"
            )
        return int(k.asscalar()) if k.ndim == 0 else k
    if isinstance(k, (list, tuple, range, np.ndarray)):
        a = np.asarray(k)
        if a.dtype.kind not in "biuf":
            raise IndexingError(f"cannot index with {k!r}: an index array must hold integers")
        return int(a) if a.ndim == 0 else a.astype(np.int64)  # floats truncate, booleans read as 0/1 (MXNet)
    raise IndexingError(
        f"NDArray does not support indexing with key {k!r} of type {type(k).__name__}; "
        "use ints, slices, None, Ellipsis or integer arrays"
    )


def _checked_slice(s: slice) -> slice:
    parts = []
    for v in (s.start, s.stop, s.step):
        if v is not None and (isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer))):
            raise IndexingError(f"slice {s} has a non-integer bound {v!r}")
        parts.append(None if v is None else int(v))
    if parts[2] == 0:
        raise IndexingError("slice step cannot be zero")
    return slice(*parts)


def _expand(key: Any, ndim: int) -> tuple[Item, ...]:
    """The key with Ellipsis and the implicit trailing axes made explicit as full slices."""
    key = key if isinstance(key, tuple) else (key,)
    items: list[Item] = []
    ellipsis_at = None
    for k in key:
        if k is Ellipsis:
            if ellipsis_at is not None:
                raise IndexingError("an index can only have a single ellipsis ('...')")
            ellipsis_at = len(items)
        else:
            items.append(_item(k))
    used = sum(k is not None for k in items)
    if used > ndim:
        raise IndexingError(f"too many indices ({used}) for array with {ndim} dimensions")
    at = len(items) if ellipsis_at is None else ellipsis_at
    return (*items[:at], *(slice(None),) * (ndim - used), *items[at:])


def _is_array(k: Item) -> bool:
    return isinstance(k, (np.ndarray, NDArray))


def _returns_self(key: Any) -> bool:
    """MXNet returns x itself for x[()] and x[:]."""
    if isinstance(key, tuple):
        return len(key) == 0
    return isinstance(key, slice) and key.start is None and key.stop is None and key.step in (None, 1)


# -- basic keys ----------------------------------------------------------------------------------------------------
class _Basic:
    """A key of ints, slices and None over an array shape: the region as slices, and the result's shape."""

    def __init__(self, items: tuple[Item, ...], shape: tuple[int, ...]) -> None:
        slices, out_shape, int_axes = [], [], []
        region_iter = iter(range(len(shape)))
        for k in items:
            if k is None:
                out_shape.append(1)
                continue
            ax = next(region_iter)
            n = shape[ax]
            if isinstance(k, int):
                if not -n <= k < n:
                    raise IndexingError(f"index {k} is out of bounds for axis {ax} with size {n}")
                k %= n
                slices.append(slice(k, k + 1))
                int_axes.append(ax)
            else:
                slices.append(k)
                out_shape.append(len(range(*k.indices(n))))
        self.shape = shape
        self.slices = tuple(slices)
        self.region = tuple(len(range(*s.indices(n))) for s, n in zip(slices, shape, strict=True))
        self.int_axes = tuple(int_axes)
        self.result_shape = tuple(out_shape) or (1,)  # MXNet 1.x has no 0-d arrays
        self.none_positions = tuple(i for i, k in enumerate(_without_ints(items)) if k is None)

    @property
    def attrs(self) -> dict:
        return key_attrs(self.slices)

    @property
    def covers_all(self) -> bool:
        return self.region == self.shape and all((s.step or 1) > 0 for s in self.slices)

    def contiguous(self) -> bool:
        """MXNet's rule for a view: from the last axis back, once an axis is a proper subset, every earlier
        axis selects at most one element; and no axis selects several elements with a step other than 1."""
        if prod(self.region) in (0, 1):
            return True
        subset = False
        for s, n, count in zip(reversed(self.slices), reversed(self.shape), reversed(self.region), strict=True):
            if count > 1 and s.indices(n)[2] != 1:
                return False
            if subset and count > 1:
                return False
            subset = subset or count < n
        return True


def _without_ints(items: tuple[Item, ...]) -> tuple[Item, ...]:
    return tuple(k for k in items if not isinstance(k, int))


def _get_basic(arr: NDArray, items: tuple[Item, ...]) -> NDArray:
    from . import _slice_view, zeros
    from . import slice as slice_op

    key = _Basic(items, arr.shape)
    if 0 in key.region:  # nothing selected: no data to share and no gradient to carry
        return zeros(key.result_shape, ctx=arr.context, dtype=arr.dtype)
    if key.contiguous():
        return _slice_view(arr, shape=key.result_shape, **key.attrs)
    out = slice_op(arr, **key.attrs)
    return out if out.shape == key.result_shape else out.reshape(key.result_shape)


# -- integer-array keys --------------------------------------------------------------------------------------------
class _Advanced:
    """A key with integer arrays, as gather_nd's stacked indices (M, *prefix) over the first M axes.

    Follows MXNet's `_get_index_nd`: the broadcast block of the array indices (integers count as arrays) stays
    where the arrays are when they are adjacent in the key, else it comes first; slices become aranges;
    trailing full slices are left to gather_nd.
    """

    def __init__(self, items: tuple[Item, ...], shape: tuple[int, ...]) -> None:
        self.items = items
        self.shape = shape
        key_nd = tuple(k for k in items if k is not None)
        self._array_at = {i for i, k in enumerate(items) if _is_array(k) or isinstance(k, int)}
        order = sorted(self._array_at)
        self.adjacent = all(b - a == 1 for a, b in zip(order, order[1:], strict=False))
        self._arrays = {ax: k for ax, k in enumerate(key_nd) if _is_array(k) or isinstance(k, int)}
        m = len(key_nd)
        while m and isinstance(key_nd[m - 1], slice) and key_nd[m - 1] == slice(None):
            m -= 1
        self.m = m
        # An int is a 1-element array here (MXNet's conversion); it broadcasts away against the others.
        shapes = [(1,) if isinstance(k, int) else k.shape for k in self._arrays.values()]
        try:
            self.block = np.broadcast_shapes(*shapes)
        except ValueError:
            listed = ", ".join(str(tuple(s)) for s in shapes)
            raise IndexingError(f"index arrays of shapes {listed} cannot be broadcast together") from None
        self._slices = {ax: range(*k.indices(shape[ax])) for ax, k in enumerate(key_nd[:m]) if ax not in self._arrays}
        first = min(self._arrays)
        before = [ax for ax in self._slices if ax < first] if self.adjacent else []
        # The prefix's parts in order: "block", or the axis of a slice.
        self._segments = [*before, "block", *[ax for ax in self._slices if ax not in before]]
        self._sizes = [self.block if s == "block" else (len(self._slices[s]),) for s in self._segments]
        self.prefix = tuple(d for size in self._sizes for d in size)

    @property
    def out_shape(self) -> tuple[int, ...]:
        """gather_nd's result shape: the prefix, then the axes past M."""
        return self.prefix + self.shape[self.m:]

    def _values(self, ax: int) -> np.ndarray:
        if ax in self._slices:
            return np.array(self._slices[ax], dtype=np.int64)
        k = self._arrays[ax]
        if isinstance(k, int):
            return np.array([k], dtype=np.int64)
        a = k.asnumpy().astype(np.int64) if isinstance(k, NDArray) else k
        return np.broadcast_to(a, self.block)

    def indices(self) -> np.ndarray:
        """The stacked indices (M, *prefix) for gather_nd / _scatter_set_nd, as int64 on the host."""
        rows = []
        for ax in range(self.m):
            at = self._segments.index("block" if ax in self._arrays else ax)
            lead = sum(len(size) for size in self._sizes[:at])
            values = self._values(ax)
            tail = len(self.prefix) - lead - values.ndim
            rows.append(np.broadcast_to(values.reshape((1,) * lead + values.shape + (1,) * tail), self.prefix))
        return np.stack(rows)

    def none_positions(self) -> tuple[int, ...]:
        """Where MXNet inserts the None axes into gather_nd's result (`_new_axes_after_advanced_indexing`):
        it skips the block's own axes when the arrays are adjacent, so `x[[1, 0], None]` gets (1, 2, ...)."""
        count = 0 if self.adjacent else len(self.block)
        out = []
        for i, k in enumerate(self.items):
            if k is None:
                out.append(count)
            count += 0 if i in self._array_at else 1
        return tuple(out)


def _single_device_index(items: tuple[Item, ...]) -> NDArray | None:
    """x[idx] / x[idx, :, ...] with an NDArray idx: its indices can stay on the device."""
    first, rest = items[0], items[1:]
    if isinstance(first, NDArray) and all(isinstance(k, slice) and k == slice(None) for k in rest):
        return first
    return None


def _gather_indices(arr: NDArray, key: _Advanced) -> NDArray:
    from . import array

    device = _single_device_index(key.items)
    if device is not None:
        return device.as_in_context(arr.context).reshape((1, *device.shape))
    return array(key.indices(), ctx=arr.context, dtype="int64")


def _with_new_axes(shape: tuple[int, ...], positions: tuple[int, ...]) -> tuple[int, ...]:
    out = list(shape)
    for p in positions:
        out.insert(p, 1)
    return tuple(out)


def _get_advanced(arr: NDArray, items: tuple[Item, ...]) -> NDArray:
    from . import gather_nd, zeros

    key = _Advanced(items, arr.shape)
    final = _with_new_axes(key.out_shape, key.none_positions())
    if 0 in final:  # nothing selected
        return zeros(final, ctx=arr.context, dtype=arr.dtype)
    out = gather_nd(arr, _gather_indices(arr, key))
    return out if out.shape == final else out.reshape(final)


def getitem(arr: NDArray, key: Any) -> NDArray:
    """`arr[key]` with MXNet 1.9's rules (see the module's docstring).

    >>> import mxplug as mx
    >>> x = mx.nd.arange(6).reshape((2, 3))
    >>> x[1].asnumpy().tolist(), x[1, 2].shape, x[:, [2, 0]].asnumpy().tolist()
    ([3.0, 4.0, 5.0], (1,), [[2.0, 0.0], [5.0, 3.0]])
    """
    if _returns_self(key):
        return arr
    items = _expand(key, arr.ndim)
    if any(_is_array(k) for k in items):
        return _get_advanced(arr, items)
    return _get_basic(arr, items)


# -- assignment ----------------------------------------------------------------------------------------------------
def _is_scalar(value: Any) -> bool:
    return isinstance(value, (numbers.Number, np.generic))


def _fit_shape(vshape: tuple[int, ...], target: tuple[int, ...], none_positions: tuple[int, ...]) -> tuple[int, ...]:
    """The value's shape after MXNet's trimming: extra axes where the key had None, then leading 1s, go."""
    shape = list(vshape)
    if len(shape) > len(target):
        drop = {p for p in none_positions if p < len(shape) and shape[p] == 1}
        shape = [d for i, d in enumerate(shape) if i not in drop]
    while len(shape) > len(target) and shape[0] == 1:
        shape.pop(0)
    fits = len(shape) <= len(target) and all(
        d in (1, t) for d, t in zip(reversed(shape), reversed(target), strict=False))
    if not fits:
        raise ShapeError(f"cannot assign a value of shape {vshape} to the indexed region of shape {target}")
    return tuple(shape)


def _value(arr: NDArray, value: Any, target: tuple[int, ...], none_positions: tuple[int, ...]) -> NDArray:
    """The value as an NDArray of arr's dtype and context with exactly the shape `target`."""
    from . import array, broadcast_to

    if not isinstance(value, NDArray):
        host = np.asarray(value)
        if host.dtype.kind not in "biuf":
            raise DTypeError(f"cannot assign {value!r} of type {type(value).__name__} to an NDArray: "
                             "give a number or an array of numbers")
        fitted = _fit_shape(host.shape, target, none_positions)
        return array(np.broadcast_to(host.reshape(fitted), target), ctx=arr.context, dtype=arr.dtype)
    v = value.as_in_context(arr.context)
    if v.dtype is not arr.dtype:
        v = v.astype(arr.dtype)
    fitted = _fit_shape(v.shape, target, none_positions)
    if v.shape == target:
        return v
    aligned = (1,) * (len(target) - len(fitted)) + fitted  # broadcast_to wants the target's ndim
    return broadcast_to(v if v.shape == aligned else v.reshape(aligned), shape=target)


def _check_autograd(arr: NDArray) -> None:
    if _RECORDING.get() and arr._ag is not None:
        raise AutogradError(
            "assigning to an NDArray that is already in a computational graph (an attach_grad variable or a "
            "recorded result) inside autograd.record() would corrupt its gradient; assign outside the record "
            "section, or build a new array (e.g. with mx.nd.where)"
        )


def _commit(arr: NDArray, new: NDArray) -> None:
    """Write the new contents into arr's memory; a recorded result makes arr that result in the graph."""
    _assign(arr, new)
    if new._ag is not None:
        arr._ag = new._ag


def _set_basic(arr: NDArray, items: tuple[Item, ...], value: Any) -> None:
    from . import _slice_assign, _slice_assign_scalar

    key = _Basic(items, arr.shape)
    if 0 in key.region:
        return
    if _is_scalar(value):
        _commit(arr, _slice_assign_scalar(arr.detach(), scalar=float(value), **key.attrs))
        return
    # The value broadcasts to the region without the integer axes (MXNet's `_drop_int_axes`).
    target = tuple(n for ax, n in enumerate(key.region) if ax not in key.int_axes) or (1,)
    v = _value(arr, value, target, key.none_positions)
    if v.shape != key.region:
        v = v.reshape(key.region)
    if key.covers_all and not (_RECORDING.get() and v._ag is not None):
        _assign(arr, v)  # the whole array, with nothing to record: no need to build a copy first
        return
    _commit(arr, _slice_assign(arr.detach(), v, **key.attrs))


def _set_advanced(arr: NDArray, items: tuple[Item, ...], value: Any) -> None:
    from . import _scatter_set_nd, full

    key = _Advanced(items, arr.shape)
    target = key.out_shape
    if 0 in target:
        return
    if _is_scalar(value):
        v = full(target, float(value), ctx=arr.context, dtype=arr.dtype)
    else:
        v = _value(arr, value, target, key.none_positions())
    _commit(arr, _scatter_set_nd(arr.detach(), v, _gather_indices(arr, key), shape=arr.shape))


_ALL = slice(None)


def setitem(arr: NDArray, key: Any, value: Any) -> None:
    """`arr[key] = value`, written into arr's memory (see the module's docstring).

    >>> import mxplug as mx
    >>> x = mx.nd.zeros((2, 3))
    >>> x[1] = 5; x[:, [0, 2]] = mx.nd.array([1, 2]); x.asnumpy().tolist()
    [[1.0, 0.0, 2.0], [1.0, 5.0, 2.0]]
    """
    _check_autograd(arr)
    if (type(key) is slice and key == _ALL and type(value) is NDArray and value._ctx is arr._ctx
            and value._data.shape == arr._data.shape and value._data.dtype == arr._data.dtype
            and not (value._ag is not None and _RECORDING.get())):
        _assign(arr, value)  # `x[:] = y` of a like array (an optimizer's update): no key to parse
        return
    if arr.size == 0:
        return
    items = _expand(key, arr.ndim)
    if any(_is_array(k) for k in items):
        _set_advanced(arr, items, value)
    else:
        _set_basic(arr, items, value)
