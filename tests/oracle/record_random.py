"""MXNet 1.9 results for random sampling (see family_oracle.py); run with the oracle's Python to record.

Random values differ between MXNet and mxplug by design (different generators), so the cases record what is
deterministic: output shapes, dtypes and contexts, degenerate distributions (low == high, lam = 0, one-hot
probabilities), the multinomial log-probability gradient on one-hot rows, properties that hold for every
draw (a shuffle permutes whole rows), and what seeding guarantees.

Not here (tests/ops/test_random.py pins them): error cases, and MXNet behaviours mxplug does not copy —
`randint` with low == high (MXNet crashes), multinomial rows summing to less than 1 (MXNet returns the
out-of-range index K), negative binomial with p = 0 or p > 1 (garbage or zeros).
"""

from __future__ import annotations

if __package__:
    from .family_oracle import check, record
else:
    from family_oracle import check, record

META = "\nr = (x.shape, str(x.dtype), repr(x.context))"
LO, HI = "mx.nd.array([0, 2.5])", "mx.nd.array([1, 3.7])"
P = "mx.nd.array([[0.1, 0.9], [0.5, 0.5]])"


def _meta(call: str) -> str:
    return f"x = {call}{META}"


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    # -- scalar parameters: shape, dtype, context ----------------------------------------------------------
    for name, call in {
        "uniform.default": "uniform()", "uniform.shape": "uniform(-1, 1, shape=(2, 3))",
        "uniform.int_shape": "uniform(shape=5)", "uniform.list_shape": "uniform(shape=[2, 2])",
        "uniform.float16": "uniform(shape=(2,), dtype='float16')",
        "uniform.float64": "uniform(shape=(2,), dtype='float64')",
        "uniform.ctx": "uniform(shape=(2,), ctx=mx.cpu(1))", "uniform.np_dtype": "uniform(shape=2, dtype=np.float64)",
        "normal.default": "normal()", "normal.shape": "normal(1, 2, shape=(3, 1))",
        "normal.float64": "normal(shape=2, dtype='float64')",
        "gamma.shape": "gamma(2, 3, shape=(3,))", "gamma.float16": "gamma(shape=(3,), dtype='float16')",
        "exponential.shape": "exponential(2, shape=(2, 2))", "poisson.shape": "poisson(2, shape=(3,))",
        "poisson.float64": "poisson(2, shape=(3,), dtype='float64')",
        "negative_binomial.shape": "negative_binomial(3, 0.4, shape=4)",
        "generalized_negative_binomial.shape": "generalized_negative_binomial(2, 0.5, shape=(2, 2))",
        "randint.default": "randint(0, 10)", "randint.shape": "randint(0, 10, shape=(3,))",
        "randint.int64": "randint(-5, 5, shape=(3,), dtype='int64')",
        "randint.ctx": "randint(0, 3, shape=2, ctx=mx.cpu(2))",
        "randn.shape": "randn(2, 3)", "randn.kwargs": "randn(2, 3, loc=1, scale=2, dtype='float64')",
        "randn.one": "randn(4)",
    }.items():
        c[f"scalar.{name}"] = _meta(f"mx.nd.random.{call}")
    for op in ("uniform", "normal", "gamma", "exponential", "poisson"):
        c[f"alias.{op}"] = _meta(f"mx.random.{op}(shape=(2,))")
    c["alias.nd_uniform"] = _meta("mx.nd.uniform(shape=(2,))")
    c["alias.nd_random_normal"] = _meta("mx.nd.random_normal(shape=(2,))")
    c["alias.internal"] = _meta("mx.nd._internal._random_uniform(shape=(2,))")
    c["out.no_shape"] = ("o = mx.nd.zeros((2, 3), dtype='float64')\nx = mx.nd.random.uniform(out=o)\n"
                         "r = (x is o, x.shape, str(x.dtype))")
    c["out.randint"] = ("o = mx.nd.zeros((2, 3), dtype='int32')\nx = mx.nd.random.randint(0, 4, out=o)\n"
                        "r = (x is o, bool(((o >= 0) * (o < 4)).asnumpy().all()))")
    c["out.shape_given"] = "o = mx.nd.zeros((2,))\nx = mx.nd.random.normal(shape=(2,), out=o)\nr = (x is o, x.shape)"
    # -- array parameters ----------------------------------------------------------------------------------
    for name, call in {
        "uniform.one": f"uniform({LO}, {HI})", "uniform.shape_int": f"uniform({LO}, {HI}, shape=3)",
        "uniform.shape_tuple": f"uniform({LO}, {HI}, shape=(1, 3))",
        "uniform.float64_in": f"uniform({LO}.astype('float64'), {HI}.astype('float64'), shape=2)",
        "uniform.float16_in": f"uniform({LO}.astype('float16'), {HI}.astype('float16'), shape=2)",
        "uniform.int_in": f"uniform({LO}.astype('int32'), {HI}.astype('int32'), shape=2)",
        "uniform.dtype_float16": f"uniform({LO}, {HI}, shape=2, dtype='float16')",
        "uniform.dtype_float64": f"uniform({LO}, {HI}, dtype='float64')",
        "normal.2d": "normal(mx.nd.zeros((2, 3)), mx.nd.ones((2, 3)), shape=(4, 5))",
        "gamma.shape": f"gamma({HI}, {HI}, shape=2)", "exponential.shape": f"exponential({HI}, shape=2)",
        "poisson.shape": f"poisson({HI}, shape=2)", "poisson.int_in": f"poisson({HI}.astype('int32'), shape=2)",
        "negative_binomial.shape": "negative_binomial(mx.nd.array([3, 5]), mx.nd.array([0.4, 0.5]), shape=3)",
        "generalized_negative_binomial.shape":
            "generalized_negative_binomial(mx.nd.array([3, 5]), mx.nd.array([0.4, 0.]), shape=3)",
    }.items():
        c[f"array.{name}"] = _meta(f"mx.nd.random.{call}")
    c["array.sample_op"] = _meta(f"mx.nd.sample_normal({LO}, {HI}, shape=(2,))")
    c["array.internal"] = _meta(f"mx.nd._internal._sample_gamma({HI}, {HI})")
    # -- _like ---------------------------------------------------------------------------------------------
    for name, call in {
        "uniform": "uniform_like(mx.nd.zeros((2, 2), dtype='float64'))",
        "uniform_float16": "uniform_like(mx.nd.zeros((2, 2), dtype='float16'), low=1, high=2)",
        "normal": "normal_like(mx.nd.zeros((3,)), loc=1)", "gamma": "gamma_like(mx.nd.zeros((3,)), alpha=2)",
        "exponential": "exponential_like(mx.nd.zeros((3,)), lam=2)", "poisson": "poisson_like(mx.nd.zeros((3,)))",
        "negative_binomial": "negative_binomial_like(mx.nd.zeros((3,)), k=2, p=0.5)",
        "generalized_negative_binomial": "generalized_negative_binomial_like(mx.nd.zeros((3,)), mu=2, alpha=1)",
    }.items():
        c[f"like.{name}"] = _meta(f"mx.nd.random.{call}")
    # -- multinomial and shuffle ---------------------------------------------------------------------------
    for name, call in {
        "2d": f"multinomial({P})", "2d_shape": f"multinomial({P}, shape=(3,))",
        "1d": "multinomial(mx.nd.array([0.2, 0.8]))",
        "1d_shape": "multinomial(mx.nd.array([0.2, 0.8]), shape=(2, 3))",
        "1d_empty_shape": "multinomial(mx.nd.array([0.2, 0.8]), shape=())",
        "3d": "multinomial(mx.nd.ones((2, 3, 4)) / 4, shape=5)",
        "dtype_uint8": f"multinomial({P}, dtype='uint8')",
        "dtype_float32": f"multinomial({P}, shape=3, dtype='float32')",
    }.items():
        c[f"multinomial.{name}"] = _meta(f"mx.nd.random.{call}")
    for name, data in {"float32": P, "float64": f"{P}.astype('float64')", "float16": f"{P}.astype('float16')"}.items():
        c[f"multinomial.get_prob_{name}"] = (
            f"s, p = mx.nd.random.multinomial({data}, shape=(3,), get_prob=True)\n"
            "r = (s.shape, str(s.dtype), p.shape, str(p.dtype))")
    onehot = "mx.nd.array([[0., 1., 0.], [1., 0., 0.], [0., 0., 1.]])"
    c["multinomial.onehot_values"] = f"mx.nd.random.multinomial({onehot}, shape=(2,), get_prob=True)"
    c["multinomial.onehot_1d"] = "mx.nd.random.multinomial(mx.nd.array([0., 0., 1.]), shape=4)"
    c["multinomial.onehot_grad"] = (
        f"x = {onehot}\nx.attach_grad()\nwith mx.autograd.record():\n"
        "    s, lp = mx.nd.random.multinomial(x, shape=(2,), get_prob=True)\n"
        "    y = (lp * mx.nd.array([[1., 2.], [3., 4.], [5., 6.]])).sum()\ny.backward()\nr = x.grad")
    c["multinomial.no_prob_grad_zero"] = (
        f"x = {P}\nx.attach_grad()\nwith mx.autograd.record():\n"
        "    y = mx.nd.random.multinomial(x, shape=(4,)).astype('float32').sum()\ny.backward()\nr = x.grad")
    c["shuffle.meta"] = _meta("mx.nd.random.shuffle(mx.nd.ones((3, 4)))")
    c["shuffle.int32"] = _meta("mx.nd.random.shuffle(mx.nd.arange(5, dtype='int32'))")
    c["shuffle.alias"] = _meta("mx.nd.shuffle(mx.nd.ones((2, 2)))")
    c["shuffle.rows_intact"] = ("x = mx.nd.random.shuffle(mx.nd.arange(24).reshape((4, 3, 2))).asnumpy()\n"
                                "r = (np.sort(x[:, 0, 0]), x - x[:, :1, :1])")
    c["shuffle.1d_permutation"] = "np.sort(mx.nd.random.shuffle(mx.nd.arange(10)).asnumpy())"
    # -- degenerate distributions: deterministic values ----------------------------------------------------
    c["value.uniform_point"] = "mx.nd.random.uniform(2, 2, shape=3)"
    c["value.randint_single"] = "mx.nd.random.randint(5, 6, shape=4)"
    c["value.poisson_zero"] = "mx.nd.random.poisson(0, shape=3)"
    c["value.negative_binomial_p1"] = "mx.nd.random.negative_binomial(3, 1.0, shape=3)"
    c["value.negative_binomial_k0"] = "mx.nd.random.negative_binomial(0, 0.5, shape=3)"
    c["value.generalized_negative_binomial_mu0"] = "mx.nd.random.generalized_negative_binomial(0, 1, shape=3)"
    c["value.sample_uniform_point"] = "mx.nd.random.uniform(mx.nd.array([1., 4.]), mx.nd.array([1., 4.]), shape=2)"
    c["value.sample_poisson_zero"] = "mx.nd.random.poisson(mx.nd.zeros((2,)), shape=2)"
    c["value.sample_gamma_alpha0"] = "mx.nd.random.gamma(mx.nd.zeros((2,)), mx.nd.ones((2,)), shape=2)"
    for name, call in {
        "sample_normal": "mx.nd.random.normal(x, mx.nd.ones((2,)), shape=3)",
        "sample_uniform": "mx.nd.random.uniform(x, x + 1, shape=3)",
        "like": "mx.nd.random.uniform_like(x)",
    }.items():
        c[f"grad.zero_{name}"] = (
            f"x = mx.nd.array([0., 1.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = {call}.sum()\n"
            "y.backward()\nr = x.grad")
    # -- seeding -------------------------------------------------------------------------------------------
    draw = "mx.nd.random.uniform(shape=4).asnumpy()"
    c["seed.repeats"] = f"mx.random.seed(5)\na = {draw}\nmx.random.seed(5)\nb = {draw}\nr = bool((a == b).all())"
    c["seed.next_draw_differs"] = f"mx.random.seed(5)\na = {draw}\nb = {draw}\nr = bool((a != b).any())"
    c["seed.other_seed_differs"] = (f"mx.random.seed(5)\na = {draw}\nmx.random.seed(6)\nb = {draw}\n"
                                    "r = bool((a != b).any())")
    c["seed.cpu_contexts_share"] = (f"mx.random.seed(5, ctx=mx.cpu(1))\na = {draw}\nmx.random.seed(5)\nb = {draw}\n"
                                    "r = bool((a == b).all())")
    c["seed.negative"] = f"mx.random.seed(-1)\na = {draw}\nmx.random.seed(-1)\nb = {draw}\nr = bool((a == b).all())"
    c["seed.returns_none"] = "mx.random.seed(1)"
    return c


CASES: dict[str, str] = _cases()


def check_case(name: str, mx) -> None:
    check("random", CASES, name, mx, rtol=1e-6)


if __name__ == "__main__":
    record("random", CASES)
