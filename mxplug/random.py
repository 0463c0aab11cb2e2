"""`mx.random`: seeding, and the samplers of `mx.nd.random` under MXNet's other names.

Random state belongs to the backends: each keeps a generator per device (`Backend.seed`). The same seed
gives the same draws afterwards, per backend and device; unseeded, a process starts from a fixed seed,
as MXNet's did.

>>> import mxplug as mx
>>> mx.random.seed(128)
>>> a = mx.nd.random.normal(shape=(2,))
>>> mx.random.seed(128)
>>> mx.nd.random.normal(shape=(2,)).asnumpy().tolist() == a.asnumpy().tolist()
True
"""

from __future__ import annotations

import numbers

from .context import Context
from .ndarray.random import (
    exponential,
    gamma,
    generalized_negative_binomial,
    multinomial,
    negative_binomial,
    normal,
    poisson,
    randint,
    randn,
    shuffle,
    uniform,
)
from .plugins import backend_for, manager

__all__ = [
    "seed", "uniform", "normal", "randn", "randint", "exponential", "gamma", "poisson", "negative_binomial",
    "generalized_negative_binomial", "multinomial", "shuffle",
]


def seed(seed_state: int, ctx: Context | str = "all") -> None:
    """Reseed the random generators: of every device of every backend (ctx='all'), or of one device.

    The seed is taken modulo 2**32, as MXNet passed it to C as an unsigned 32-bit value.

    >>> import mxplug as mx
    >>> mx.random.seed(7, ctx=mx.cpu())
    """
    if isinstance(seed_state, bool) or not isinstance(seed_state, numbers.Integral):
        raise ValueError(f"seed_state must be an int, got {type(seed_state).__name__}")
    value = int(seed_state) % 2**32
    if isinstance(ctx, str) and ctx == "all":
        for backend in manager().backends.values():
            if backend.available:
                backend.seed(value, None)
        return
    if not isinstance(ctx, Context):
        from .ndarray._op import _parse_ctx

        ctx = Context(*_parse_ctx(ctx))
    backend = backend_for(ctx)
    backend.check_device(ctx.device_id)
    backend.seed(value, ctx.device_id)
