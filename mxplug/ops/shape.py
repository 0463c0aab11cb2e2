"""Shape operators: inference and gradients."""

from __future__ import annotations

from ..base import ShapeError
from . import gradient, infer
from ._util import norm_axis, spec


def _prod(xs) -> int:
    n = 1
    for x in xs:
        n *= x
    return n


def reshape_target(src: tuple[int, ...], codes: tuple[int, ...], reverse: bool = False) -> tuple[int, ...]:  # noqa: FBT001
    """MXNet's Reshape codes applied to `src` (0 copy, -1 infer, -2 rest, -3 merge two, -4 split one)."""
    op = "Reshape"
    if reverse:
        src, codes = src[::-1], _reverse_codes(codes)
    out: list[int] = []
    infer_at = -1
    i = j = 0  # i: position in src, j: position in codes
    while j < len(codes):
        c = codes[j]
        if c > 0:
            out.append(c)
            i += 1
        elif c == 0:
            if i >= len(src):
                raise ShapeError(f"operator '{op}': code 0 at position {j} has no input dimension to copy ({src})")
            out.append(src[i])
            i += 1
        elif c == -1:
            if infer_at >= 0:
                raise ShapeError(f"operator '{op}': shape {codes} has more than one -1")
            infer_at = len(out)
            out.append(1)
            i += 1
        elif c == -2:
            out.extend(src[i:])
            i = len(src)
        elif c == -3:
            if i + 1 >= len(src):
                raise ShapeError(f"operator '{op}': code -3 needs two input dimensions at {i} of {src}")
            out.append(src[i] * src[i + 1])
            i += 2
        elif c == -4:
            if j + 2 >= len(codes) or i >= len(src):
                raise ShapeError(f"operator '{op}': code -4 must be followed by two values, got {codes}")
            d0, d1 = codes[j + 1], codes[j + 2]
            whole = src[i]
            if d0 == -1 and d1 == -1:
                raise ShapeError(f"operator '{op}': code -4 split ({d0}, {d1}) may infer only one part")
            if d0 == -1:
                d0 = whole // d1 if d1 else 0
            if d1 == -1:
                d1 = whole // d0 if d0 else 0
            if d0 * d1 != whole:
                raise ShapeError(f"operator '{op}': cannot split dimension {whole} into ({d0}, {d1})")
            out.extend((d0, d1))
            i += 1
            j += 2
        else:
            raise ShapeError(f"operator '{op}': invalid code {c} in shape {codes}")
        j += 1
    total = _prod(src)
    if infer_at >= 0:
        known = _prod(d for k, d in enumerate(out) if k != infer_at)
        if known == 0 or total % known:
            raise ShapeError(f"operator '{op}': cannot reshape array of shape {src[::-1] if reverse else src} "
                             f"into {codes[::-1] if reverse else codes}")
        out[infer_at] = total // known
    if _prod(out) != total:
        raise ShapeError(
            f"operator '{op}': cannot reshape array of shape {src[::-1] if reverse else src} (size {total}) "
            f"into {tuple(out[::-1] if reverse else out)} (size {_prod(out)})"
        )
    return tuple(out[::-1] if reverse else out)


def _reverse_codes(codes: tuple[int, ...]) -> tuple[int, ...]:
    """Reverse a code list keeping each -4's two split values in the order they apply."""
    groups, j = [], 0
    while j < len(codes):
        if codes[j] == -4 and j + 2 < len(codes):
            groups.append((-4, codes[j + 2], codes[j + 1]))
            j += 3
        else:
            groups.append((codes[j],))
            j += 1
    return tuple(c for g in reversed(groups) for c in g)


@infer("Reshape")
def _reshape(attrs, data):
    return spec(reshape_target(tuple(data.shape), attrs["shape"], attrs["reverse"]), data.dtype)


@gradient("Reshape")
def _reshape_grad(F, attrs, inputs, outputs, ograds):
    return [F.reshape_like(ograds[0], inputs[0])] if hasattr(F, "reshape_like") else [
        ograds[0].reshape(inputs[0].shape)
    ]


def transpose_axes(attrs: dict, ndim: int) -> tuple[int, ...]:
    axes = attrs["axes"]
    if not axes:
        return tuple(range(ndim))[::-1]
    if len(axes) != ndim:
        raise ShapeError(f"operator 'transpose': axes {axes} do not match an array of {ndim} dimensions")
    norm = tuple(norm_axis("transpose", a, ndim, "axes") for a in axes)
    if sorted(norm) != list(range(ndim)):
        raise ShapeError(f"operator 'transpose': axes {axes} are not a permutation of {ndim} dimensions")
    return norm


@infer("transpose")
def _transpose(attrs, data):
    axes = transpose_axes(attrs, len(data.shape))
    return spec(tuple(data.shape[a] for a in axes), data.dtype)


@gradient("transpose")
def _transpose_grad(F, attrs, inputs, outputs, ograds):
    axes = transpose_axes(attrs, inputs[0].ndim)
    inv = [0] * len(axes)
    for i, a in enumerate(axes):
        inv[a] = i
    return [F.transpose(ograds[0], axes=tuple(inv))]


@infer("broadcast_like")
def _broadcast_like(attrs, lhs, rhs):
    la, ra = attrs["lhs_axes"], attrs["rhs_axes"]
    if la is None and ra is None:
        if len(lhs.shape) != len(rhs.shape):
            raise ShapeError(f"operator 'broadcast_like': lhs {lhs.shape} and rhs {rhs.shape} differ in ndim")
        out = []
        for a, b in zip(lhs.shape, rhs.shape, strict=True):
            if a != b and a != 1:
                raise ShapeError(f"operator 'broadcast_like': cannot broadcast {lhs.shape} to {rhs.shape}")
            out.append(b)
        return spec(out, lhs.dtype)
    if la is None or ra is None or len(la) != len(ra):
        raise ShapeError("operator 'broadcast_like': lhs_axes and rhs_axes must be given together, equally long")
    out = list(lhs.shape)
    for a, b in zip(la, ra, strict=True):
        a = norm_axis("broadcast_like", a, len(lhs.shape), "lhs_axes")
        b = norm_axis("broadcast_like", b, len(rhs.shape), "rhs_axes")
        if out[a] != 1 and out[a] != rhs.shape[b]:
            raise ShapeError(f"operator 'broadcast_like': cannot broadcast axis {a} of {lhs.shape} to {rhs.shape[b]}")
        out[a] = rhs.shape[b]
    return spec(out, lhs.dtype)


@gradient("broadcast_like")
def _broadcast_like_grad(F, attrs, inputs, outputs, ograds):
    return [F._sum_to_like(ograds[0], inputs[0]), None]
