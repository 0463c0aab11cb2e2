"""MXNet 1.9 results for the conv family (see family_oracle.py); run with the oracle's Python.

Recorded where the semantics are subtle: pooling conventions ('full', 'same'), avg's count with and without
the padding, Lp pooling, max pooling's gradient with tied values, Deconvolution's adj/target_shape/groups,
UpSampling's multi-input modes and its bilinear form, and forward/backward of every operator.

Not here, on purpose: 3-D Deconvolution (MXNet's native CPU operators stop at 2-D), float16 (MXNet's CPU
build refuses it for FullyConnected/Convolution/Deconvolution), and channel-last layouts (mxplug computes
channel-first only). Recorded with oneDNN off (MXNET_MKLDNN_ENABLED=0), MXNet's own CPU operators: oneDNN
cannot build dilated deconvolution or 'same' max/avg pooling primitives.
"""

from __future__ import annotations

import json

if __package__:
    from .core_cases import encode, run
    from .family_oracle import oracle_file, record
else:
    from core_cases import encode, run
    from family_oracle import oracle_file, record


def _arr(*shape: int, scale: float = 0.125) -> str:
    """A deterministic array of small values on a 1/16 grid: products and their sums are exact in float32, so
    MXNet and mxplug agree to the last bit whatever order they add in."""
    n = 1
    for s in shape:
        n *= s
    return (f"mx.nd.array(((np.arange({n}) * 7) % 11 - 5.0).reshape({shape}) * {scale} "
            f"+ (np.arange({n}) % 4).reshape({shape}) * 0.0625)")


def _ties(*shape: int) -> str:
    """Values with many ties (0, 1, 2 repeating), where max pooling's gradient routing shows."""
    n = 1
    for s in shape:
        n *= s
    return f"mx.nd.array((np.arange({n}) % 3).reshape({shape}).astype('float32'))"


def _grad(inputs: dict[str, str], call: str) -> str:
    """The op's output and the gradient of every input for a fixed head gradient of the output's shape."""
    setup = "".join(f"{k} = {v}\n{k}.attach_grad()\n" for k, v in inputs.items())
    grads = ", ".join(f"{k}.grad" for k in inputs)
    return (f"{setup}with mx.autograd.record():\n    y = {call}\n"
            "y.backward(mx.nd.array((np.arange(y.size) % 5 - 2.0).reshape(y.shape)))\n"
            f"r = (y, {grads})")


def _pool_cases(c: dict[str, str]) -> None:
    x2 = _arr(2, 2, 7, 7)
    for conv in ("valid", "full"):
        for pt in ("max", "avg", "sum"):
            c[f"pool.{pt}.{conv}.k3s2p1"] = (f"mx.nd.Pooling({x2}, kernel=(3, 3), stride=(2, 2), pad=(1, 1), "
                                             f"pool_type='{pt}', pooling_convention='{conv}')")
            c[f"pool.{pt}.{conv}.k2s3"] = (f"mx.nd.Pooling({x2}, kernel=(2, 2), stride=(3, 3), pool_type='{pt}', "
                                           f"pooling_convention='{conv}')")
        for cip in (True, False):
            c[f"pool.avg.{conv}.k4s3p1.cip{cip}"] = (
                f"mx.nd.Pooling({x2}, kernel=(4, 3), stride=(3, 2), pad=(1, 1), pool_type='avg', "
                f"pooling_convention='{conv}', count_include_pad={cip})")
            c[f"grad.pool.avg.{conv}.cip{cip}"] = _grad(
                {"x": x2}, f"mx.nd.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type='avg', "
                           f"pooling_convention='{conv}', count_include_pad={cip})")
    c["pool.max.full.empty_window"] = ("mx.nd.Pooling(mx.nd.array(np.arange(5.0).reshape(1, 1, 5)), kernel=(1,), "
                                       "stride=(3,), pooling_convention='full')")
    for pt in ("max", "avg", "sum"):
        c[f"pool1d.{pt}"] = f"mx.nd.Pooling({_arr(2, 3, 9)}, kernel=(3,), stride=(2,), pad=(1,), pool_type='{pt}')"
        c[f"pool3d.{pt}"] = (f"mx.nd.Pooling({_arr(1, 2, 5, 4, 6)}, kernel=(2, 2, 3), stride=(2, 1, 2), "
                             f"pad=(1, 0, 1), pool_type='{pt}', pooling_convention='full')")
        c[f"pool.global.{pt}"] = f"mx.nd.Pooling({x2}, kernel=(3, 3), global_pool=True, pool_type='{pt}', pad=(1, 1))"
        c[f"grad.pool.global.{pt}"] = _grad({"x": _ties(2, 2, 3, 3)},
                                            f"mx.nd.Pooling(x, global_pool=True, pool_type='{pt}')")
        c[f"grad.pool3d.{pt}"] = _grad({"x": _arr(1, 2, 4, 4, 5)},
                                       f"mx.nd.Pooling(x, kernel=(2, 2, 2), stride=(1, 2, 2), pool_type='{pt}')")
    for k, s in ((3, 2), (2, 3), (4, 3)):
        for pt in ("max", "avg", "sum"):
            # MXNet 1.9.1 reads pad[1] and pad[2] even for 1-D 'same' pooling: it needs a 3-element zero pad
            c[f"pool.same.{pt}.k{k}s{s}"] = (f"mx.nd.Pooling({_arr(2, 2, 7)}, kernel=({k},), stride=({s},), "
                                             f"pad=(0, 0, 0), pool_type='{pt}', pooling_convention='same')")
    c["grad.pool.same.max"] = _grad({"x": _arr(2, 2, 7)}, "mx.nd.Pooling(x, kernel=(3,), stride=(2,), pad=(0, 0, 0), "
                                                         "pooling_convention='same')")
    for p in (1, 2, 3):
        c[f"pool.lp{p}"] = (f"mx.nd.Pooling({_arr(2, 2, 6, 6)}, kernel=(2, 3), stride=(2, 1), pool_type='lp', "
                            f"p_value={p})")
        c[f"pool.global.lp{p}"] = f"mx.nd.Pooling({_arr(2, 2, 3, 3)}, global_pool=True, pool_type='lp', p_value={p})"
        c[f"grad.pool.lp{p}"] = _grad({"x": _arr(1, 2, 5, 5, scale=0.5)},
                                      f"mx.nd.Pooling(x, kernel=(2, 2), stride=(1, 1), pool_type='lp', p_value={p})")
    c["grad.pool.max.ties.overlap"] = _grad({"x": _ties(1, 2, 6, 6)},
                                            "mx.nd.Pooling(x, kernel=(3, 3), stride=(1, 1), pad=(1, 1))")
    c["grad.pool.max.ties.s2"] = _grad({"x": _ties(1, 1, 6, 7)}, "mx.nd.Pooling(x, kernel=(2, 2), stride=(2, 2))")
    c["grad.pool.max.full"] = _grad({"x": x2}, "mx.nd.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), "
                                               "pooling_convention='full')")
    c["grad.pool.sum.k2s3"] = _grad({"x": x2}, "mx.nd.Pooling(x, kernel=(2, 2), stride=(3, 3), pool_type='sum')")
    c["grad.pool1d.max"] = _grad({"x": _ties(2, 2, 9)}, "mx.nd.Pooling(x, kernel=(3,), stride=(2,), pad=(1,))")


_CONV_CASES = {  # name: (data shape, weight shape, attributes)
    "2d": ((2, 3, 7, 6), (4, 3, 3, 3), "kernel=(3, 3), num_filter=4"),
    "2d.s2p1": ((2, 3, 7, 6), (4, 3, 3, 3), "kernel=(3, 3), num_filter=4, stride=(2, 2), pad=(1, 1)"),
    "2d.dil": ((1, 2, 9, 8), (3, 2, 3, 2), "kernel=(3, 2), num_filter=3, dilate=(2, 3), pad=(1, 2), stride=(1, 2)"),
    "2d.groups": ((2, 4, 6, 6), (6, 2, 3, 3), "kernel=(3, 3), num_filter=6, num_group=2, pad=(1, 1)"),
    "2d.depthwise": ((2, 3, 5, 5), (3, 1, 3, 3), "kernel=(3, 3), num_filter=3, num_group=3, stride=(2, 2)"),
    "2d.1x1": ((2, 5, 4, 4), (3, 5, 1, 1), "kernel=(1, 1), num_filter=3"),
    "1d": ((2, 3, 11), (4, 3, 3), "kernel=(3,), num_filter=4, stride=(2,), pad=(1,)"),
    "1d.dil": ((2, 2, 11), (3, 2, 3), "kernel=(3,), num_filter=3, dilate=(2,)"),
    "3d": ((1, 2, 5, 6, 5), (3, 2, 2, 3, 2), "kernel=(2, 3, 2), num_filter=3, stride=(1, 2, 1), pad=(1, 0, 1)"),
}

_DECONV_CASES = {
    "2d": ((2, 3, 4, 5), (3, 4, 3, 3), "kernel=(3, 3), num_filter=4"),
    "2d.s2p1adj": ((2, 3, 4, 5), (3, 4, 3, 3), "kernel=(3, 3), num_filter=4, stride=(2, 2), pad=(1, 1), adj=(1, 0)"),
    "2d.target": ((2, 3, 4, 4), (3, 2, 3, 3), "kernel=(3, 3), num_filter=2, stride=(2, 2), target_shape=(8, 9)"),
    "2d.target_pad": ((1, 2, 4, 4), (2, 2, 3, 3), "kernel=(3, 3), num_filter=2, stride=(3, 3), pad=(4, 4), "
                                                  "target_shape=(10, 11)"),
    "2d.target_small": ((1, 2, 4, 4), (2, 2, 3, 3), "kernel=(3, 3), num_filter=2, stride=(2, 2), target_shape=(5, 6)"),
    "2d.groups": ((2, 4, 4, 4), (4, 3, 3, 3), "kernel=(3, 3), num_filter=6, num_group=2, stride=(2, 1)"),
    "2d.dil": ((1, 2, 4, 5), (2, 3, 3, 2), "kernel=(3, 2), num_filter=3, dilate=(2, 2), pad=(1, 0)"),
    "1d": ((2, 4, 5), (4, 3, 3), "kernel=(3,), num_filter=3, stride=(3,), pad=(1,)"),
}  # 3-D: MXNet's native CPU operator has none (tested against the loop reference in test_conv.py)


def _conv_cases(c: dict[str, str]) -> None:
    for name, (ds, ws, kw) in _CONV_CASES.items():
        bias = _arr(ws[0])
        c[f"conv.{name}"] = f"mx.nd.Convolution({_arr(*ds)}, {_arr(*ws)}, {bias}, {kw})"
        c[f"grad.conv.{name}"] = _grad({"x": _arr(*ds), "w": _arr(*ws), "b": bias},
                                       f"mx.nd.Convolution(x, w, b, {kw})")
    c["conv.no_bias"] = (f"mx.nd.Convolution({_arr(2, 3, 5, 5)}, {_arr(2, 3, 3, 3)}, kernel=(3, 3), num_filter=2, "
                         "no_bias=True)")
    for name, (ds, ws, kw) in _DECONV_CASES.items():
        nf = int(kw.split("num_filter=")[1].split(",")[0])
        c[f"deconv.{name}"] = f"mx.nd.Deconvolution({_arr(*ds)}, {_arr(*ws)}, {kw})"
        c[f"grad.deconv.{name}"] = _grad({"x": _arr(*ds), "w": _arr(*ws), "b": _arr(nf)},
                                         f"mx.nd.Deconvolution(x, w, b, {kw}, no_bias=False)")


def _fc_cases(c: dict[str, str]) -> None:
    c["fc.2d"] = f"mx.nd.FullyConnected({_arr(3, 4)}, {_arr(5, 4)}, {_arr(5)}, num_hidden=5)"
    c["fc.4d.flatten"] = f"mx.nd.FullyConnected({_arr(2, 3, 2, 2)}, {_arr(4, 12)}, {_arr(4)}, num_hidden=4)"
    c["fc.3d.noflatten"] = (f"mx.nd.FullyConnected({_arr(2, 3, 4)}, {_arr(5, 4)}, {_arr(5)}, num_hidden=5, "
                            "flatten=False)")
    c["fc.1d.noflatten"] = f"mx.nd.FullyConnected({_arr(4)}, {_arr(3, 4)}, num_hidden=3, no_bias=True, flatten=False)"
    c["fc.no_bias"] = f"mx.nd.FullyConnected({_arr(3, 4)}, {_arr(2, 4)}, num_hidden=2, no_bias=True)"
    c["grad.fc.4d.flatten"] = _grad({"x": _arr(2, 3, 2, 2), "w": _arr(4, 12), "b": _arr(4)},
                                    "mx.nd.FullyConnected(x, w, b, num_hidden=4)")
    c["grad.fc.3d.noflatten"] = _grad({"x": _arr(2, 3, 4), "w": _arr(5, 4), "b": _arr(5)},
                                      "mx.nd.FullyConnected(x, w, b, num_hidden=5, flatten=False)")


def _upsampling_cases(c: dict[str, str]) -> None:
    a, b = _arr(2, 2, 3, 4), _arr(2, 3, 6, 8)
    c["up.nearest"] = f"mx.nd.UpSampling({_arr(2, 2, 3, 4)}, scale=3, sample_type='nearest')"
    c["up.nearest.concat"] = f"mx.nd.UpSampling({a}, {b}, scale=4, sample_type='nearest')"
    c["up.nearest.sum"] = (f"mx.nd.UpSampling({a}, {_arr(2, 2, 6, 8)}, {_arr(2, 2, 12, 16)}, scale=4, "
                           "sample_type='nearest', multi_input_mode='sum')")
    c["grad.up.nearest.concat"] = _grad({"a": a, "b": b}, "mx.nd.UpSampling(a, b, scale=2, sample_type='nearest')")
    c["grad.up.nearest.sum"] = _grad({"a": a, "b": _arr(2, 2, 6, 8)},
                                     "mx.nd.UpSampling(a, b, scale=2, sample_type='nearest', multi_input_mode='sum')")
    for s in (2, 3):
        k = 2 * s - s % 2
        c[f"up.bilinear.s{s}"] = (f"mx.nd.UpSampling({_arr(2, 3, 3, 4)}, {_arr(3, 1, k, k)}, scale={s}, "
                                  "sample_type='bilinear', num_filter=3)")
        c[f"grad.up.bilinear.s{s}"] = _grad({"x": _arr(1, 2, 3, 3), "w": _arr(2, 1, k, k)},
                                            f"mx.nd.UpSampling(x, w, scale={s}, sample_type='bilinear', num_filter=2)")


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    _pool_cases(c)
    _conv_cases(c)
    _fc_cases(c)
    _upsampling_cases(c)
    return c


CASES: dict[str, str] = _cases()


_RECORDED: dict = {}


def _close(got: dict, want: dict, where: str) -> None:
    """Results agree in kind, dtype, shape and values to float32 rounding: averages and Lp roots are rounded
    differently (MXNet multiplies by 1/count), and a cancellation to 0 may come out as ±1e-9 (hence atol)."""
    import numpy as np

    assert got["kind"] == want["kind"], f"{where}: {got['kind']} vs MXNet's {want['kind']}"
    if want["kind"] == "seq":
        assert len(got["items"]) == len(want["items"]), f"{where}: {len(got['items'])} outputs vs MXNet's"
        for i, (g, w) in enumerate(zip(got["items"], want["items"], strict=True)):
            _close(g, w, f"{where}[{i}]")
        return
    assert (got["dtype"], got["shape"]) == (want["dtype"], want["shape"]), f"{where}: {got} vs MXNet's {want}"
    g, w = np.array(got["values"], dtype="float64"), np.array(want["values"], dtype="float64")
    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg=where)


def check_case(name: str, mx) -> None:
    """Run case `name` with mxplug and compare with what MXNet recorded."""
    if not _RECORDED:
        _RECORDED.update(json.loads(oracle_file("conv").read_text())["cases"])
    assert _RECORDED[name]["code"] == CASES[name], f"case {name} changed: re-run tests/oracle/record_conv.py"
    value = run(CASES[name], mx)
    if isinstance(value, BaseException):
        raise AssertionError(f"{name}: MXNet returned a result, mxplug raised {value!r}") from value
    _close(encode(value), _RECORDED[name]["result"], name)


if __name__ == "__main__":
    import os

    # MXNet's own CPU operators, not oneDNN's: oneDNN cannot build dilated deconvolution or 'same' max/avg
    # pooling primitives (and its results are what the native operators compute where it can).
    os.environ["MXNET_MKLDNN_ENABLED"] = "0"
    record("conv", CASES)
