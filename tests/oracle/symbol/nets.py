"""The networks recorded with MXNet 1.9.1 (record_symbol.py) and rebuilt with mxplug by the tests.

`build(mx, name)` works with either library: it uses only the API both share.
"""

ELEMWISE_NETS = ("chain", "broadcast", "reduce", "split_concat", "attrs")
NN_NETS = ("mlp", "lenet")


def build(mx, name):
    sym = mx.sym
    if name == "chain":
        x = sym.var("x")
        y = sym.exp(x) * 2 + 1
        return sym.tanh(y - x / 3) ** 2
    if name == "broadcast":
        a, b = sym.var("a", shape=(2, 3)), sym.var("b", shape=(1, 3), lr_mult=2.0)
        return sym.broadcast_add(a, b) * sym.broadcast_mul(a, b)
    if name == "reduce":
        x = sym.var("x", dtype="float64")
        return sym.Group([sym.sum(x, axis=(0, 1), keepdims=True), sym.mean(x, axis=1), sym.max(x)])
    if name == "split_concat":
        x = sym.var("data")
        parts = sym.split(x, num_outputs=3, axis=1, name="sp")
        both = sym.Concat(parts[2], parts[0], dim=1) + sym.Concat(parts[1], parts[1], dim=1)
        return sym.Reshape(both, shape=(0, 2, -1))
    if name == "attrs":
        with mx.AttrScope(ctx_group="dev1", mood="calm"):
            x = sym.var("x", attr={"note": "input"})
            y = sym.relu(x, attr={"foo": "bar"})
        with mx.name.Prefix("enc_"):
            z = sym.sigmoid(y)
        return sym.Cast(z, dtype="float16")
    if name == "mlp":
        data = sym.var("data")
        fc1 = sym.FullyConnected(data, num_hidden=16, name="fc1")
        act = sym.Activation(fc1, act_type="relu")
        bn = sym.BatchNorm(act, fix_gamma=False)
        fc2 = sym.FullyConnected(bn, num_hidden=4, no_bias=True)
        return sym.SoftmaxOutput(fc2, name="softmax")
    if name == "lenet":
        data = sym.var("data")
        c1 = sym.Convolution(data, kernel=(5, 5), num_filter=6)
        a1 = sym.Activation(c1, act_type="tanh")
        p1 = sym.Pooling(a1, pool_type="max", kernel=(2, 2), stride=(2, 2))
        c2 = sym.Convolution(p1, kernel=(3, 3), num_filter=8, pad=(1, 1))
        a2 = sym.Activation(c2, act_type="tanh")
        f = sym.Flatten(a2)
        fc = sym.FullyConnected(f, num_hidden=10)
        return sym.SoftmaxOutput(fc, name="softmax")
    raise KeyError(name)


SHAPES = {
    "chain": {"x": (2, 3)}, "broadcast": {"a": (2, 3), "b": (1, 3)}, "reduce": {"x": (2, 3, 4)},
    "split_concat": {"data": (2, 6)}, "attrs": {"x": (2, 2)}, "mlp": {"data": (5, 8)},
    "lenet": {"data": (2, 1, 12, 12)},
}
