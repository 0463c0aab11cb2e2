"""Random sampling kernels, written over ``xp`` and a generator source ``rng``.

Kernels receive only arrays and attributes, so the random state reaches them through ``rng``, which the
plugin passes to ``make_kernels(xp, rng)``: ``rng(ctx) -> Generator`` returns the generator the backend
keeps for a device — the one named by ``ctx`` (the ``'cpu(0)'`` attribute of the input-less samplers), or
the device the kernel runs on when ``ctx`` is None (operators with array inputs). The generator needs the
methods NumPy's `numpy.random.Generator` and CuPy's `cupy.random.Generator` share: ``random``,
``standard_normal``, ``standard_exponential``, ``standard_gamma``, ``poisson`` and ``integers``.
Reseeding is the backend's job (`Backend.seed`), never the kernels'.
"""

from __future__ import annotations

from collections.abc import Callable


def _compute_dtype(dtype) -> str:
    """Draw in float64 for float64 outputs, else in float32 (float16 is rounded from float32)."""
    return "float64" if str(dtype) == "float64" else "float32"


def make_samplers(xp) -> dict[str, Callable]:
    """distribution → ``draw(gen, params, size, dtype)``: samples of `size` in the compute `dtype`, each
    parameter a number or an array broadcastable to `size`."""

    def as_array(value):
        # Parameters that go through xp functions before reaching the generator: CuPy's functions (where,
        # maximum) and samplers (standard_gamma, poisson) take arrays or exact Python numbers, not the NumPy
        # scalars xp.maximum(number, 0) gives, so numbers become 0-d arrays first (the same draws on NumPy).
        return value if hasattr(value, "shape") else xp.asarray(value, dtype="float64")

    def uniform(gen, low, high, size, dtype):
        return low + (high - low) * gen.random(size, dtype=dtype)

    def normal(gen, loc, scale, size, dtype):
        return loc + scale * gen.standard_normal(size, dtype=dtype)

    def gamma(gen, alpha, beta, size, dtype):
        return gen.standard_gamma(alpha, size, dtype=dtype) * beta

    def exponential(gen, lam, size, dtype):
        return gen.standard_exponential(size, dtype=dtype) / lam

    def poisson(gen, lam, size, dtype):
        # MXNet draws 0 for a negative rate (numpy would raise).
        return gen.poisson(xp.maximum(as_array(lam), 0), size).astype(dtype)

    def negative_binomial(gen, k, p, size, dtype):
        # A gamma-Poisson mixture, as MXNet samples it: Poisson(Gamma(k, (1 - p) / p)).
        rate = gen.standard_gamma(xp.maximum(as_array(k), 0), size) * ((1.0 - p) / p)
        return gen.poisson(rate).astype(dtype)

    def generalized_negative_binomial(gen, mu, alpha, size, dtype):
        # Poisson(Gamma(1/alpha, alpha*mu)); alpha = 0 degenerates to Poisson(mu).
        alpha = as_array(alpha)
        safe = xp.where(alpha == 0, 1.0, alpha)
        mixed = gen.standard_gamma(1.0 / safe, size) * (safe * mu)
        rate = xp.where(alpha == 0, mu, mixed)
        return gen.poisson(xp.maximum(rate, 0)).astype(dtype)

    return {
        "uniform": uniform, "normal": normal, "gamma": gamma, "exponential": exponential, "poisson": poisson,
        "negative_binomial": negative_binomial, "generalized_negative_binomial": generalized_negative_binomial,
    }


# distribution → attribute names of its scalar parameters (the `_sample_*` inputs come in the same order).
PARAMS = {
    "uniform": ("low", "high"), "normal": ("loc", "scale"), "gamma": ("alpha", "beta"), "exponential": ("lam",),
    "poisson": ("lam",), "negative_binomial": ("k", "p"), "generalized_negative_binomial": ("mu", "alpha"),
}


def make_kernels(xp, rng: Callable | None = None) -> dict:
    if rng is None:
        private = xp.random.default_rng()

        def rng(ctx):
            return private

    samplers = make_samplers(xp)

    def draw(dist, gen, params, size, dtype):
        work = _compute_dtype(dtype)
        return xp.asarray(samplers[dist](gen, *params, size, work)).astype(dtype, copy=False)

    def scalar_kernel(dist):
        names = PARAMS[dist]

        def kernel(*, shape, ctx, dtype, **attrs):
            dtype = dtype or "float32"
            return draw(dist, rng(ctx), [attrs[n] for n in names], tuple(shape), dtype)

        return kernel

    def array_kernel(dist):
        def kernel(*params, shape, dtype):
            dtype = dtype or "float32"
            base = params[0].shape
            size = base + tuple(shape)
            # Each parameter element governs the `shape` samples that follow its index.
            work = _compute_dtype(dtype)
            expanded = [p.astype(work).reshape(base + (1,) * len(shape)) for p in params]
            return draw(dist, rng(None), expanded, size, dtype)

        return kernel

    def like_kernel(dist):
        names = PARAMS[dist]

        def kernel(data, **attrs):
            return draw(dist, rng(None), [attrs[n] for n in names], data.shape, data.dtype)

        return kernel

    def randint(*, low, high, shape, ctx, dtype):
        return rng(ctx).integers(low, high, size=tuple(shape), dtype=dtype or "int32")

    def multinomial(data, *, shape, get_prob, dtype):
        k = data.shape[-1]
        probs = data.astype("float64").reshape(-1, k)
        draws = 1
        for d in shape:
            draws *= d
        # Inverse CDF, MXNet's way: the category is the number of CDF entries below u (clipped to the last
        # category, where MXNet read past the end when the probabilities sum to less than u).
        cdf = xp.cumsum(probs, axis=1)
        u = rng(None).random((probs.shape[0], draws))
        index = (cdf[:, None, :] < u[:, :, None]).sum(axis=2)
        index = xp.minimum(index, k - 1)
        out_shape = data.shape[:-1] + tuple(shape) if data.ndim > 1 or shape else (1,)
        samples = index.astype(dtype).reshape(out_shape)
        if not get_prob:
            return samples
        logp = xp.log(xp.take_along_axis(data.reshape(-1, k), index, axis=1))
        return samples, logp.astype(data.dtype).reshape(out_shape)

    def multinomial_backward(ograd, data, samples):
        # d log p[s] / d p[c] = 1/p[c] where s == c: scatter ograd / p[s] onto the sampled categories.
        k = data.shape[-1]
        probs = data.reshape(-1, k)
        index = samples.reshape(probs.shape[0], -1).astype("int64")
        picked = xp.take_along_axis(probs, index, axis=1)
        contrib = ograd.reshape(index.shape) / picked
        hits = index[:, :, None] == xp.arange(k)[None, None, :]
        return (hits * contrib[:, :, None]).sum(axis=1).astype(data.dtype).reshape(data.shape)

    def shuffle(data):
        # A random permutation of the first axis (argsort of uniforms: available on every array module).
        order = xp.argsort(rng(None).random(data.shape[0]))
        return data[order]

    table = {}
    for dist in PARAMS:
        table[f"_random_{dist}"] = scalar_kernel(dist)
        table[f"_sample_{dist}"] = array_kernel(dist)
        table[f"_random_{dist}_like"] = like_kernel(dist)
    table.update({
        "_random_randint": randint,
        "_sample_multinomial": multinomial,
        "_backward_sample_multinomial": multinomial_backward,
        "_shuffle": shuffle,
    })
    return table
