"""Core-semantics cases run against both MXNet 1.9 (by record_core.py) and mxplug (by the tests).

Each case is Python source run with `mx` bound to the library under test (`mxnet` or `mxplug`), `np`,
`pickle` and `threading`. A one-line case is an expression; a multi-line case leaves its result in `r`.
The result is encoded with `encode` (no MXNet or mxplug import here: the oracle's Python runs this module
too, with an older NumPy), so both sides produce comparable JSON.

Cases whose MXNet behaviour mxplug deliberately does not copy (MXNet returns garbage or crashes) are not
here; the tests pin mxplug's behaviour for those directly.
"""

from __future__ import annotations

import math
import pickle
import threading
from typing import Any

import numpy as np

# Builtin bases an error may carry; a case records which of them MXNet's error had.
_BUILTIN_BASES = (ValueError, TypeError, IndexError, KeyError, AttributeError, RuntimeError, NotImplementedError)


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}

    # -- NDArray attributes and conversion -----------------------------------------------------------------
    x23 = "mx.nd.array([[1, 2, 3], [4, 5, 6]])"
    c["nd.attr.shape"] = f"{x23}.shape"
    c["nd.attr.dtype_str"] = f"str({x23}.dtype)"
    c["nd.attr.dtype_is_np_type"] = f"{x23}.dtype is np.float32"
    c["nd.attr.dtype_int32"] = "str(mx.nd.array([1, 2], dtype='int32').dtype)"
    c["nd.attr.dtype_from_float64_numpy"] = "str(mx.nd.array(np.array([1.0, 2.0])).dtype)"
    c["nd.attr.dtype_from_int_numpy"] = "str(mx.nd.array(np.array([1, 2])).dtype)"
    c["nd.attr.dtype_from_ndarray_kept"] = "str(mx.nd.array(mx.nd.array([1, 2], dtype='int64')).dtype)"
    c["nd.attr.size"] = f"{x23}.size"
    c["nd.attr.ndim"] = f"{x23}.ndim"
    c["nd.attr.context"] = f"repr({x23}.context)"
    c["nd.attr.ctx_alias"] = "x = mx.nd.array([1], ctx=mx.cpu(1))\nr = (repr(x.ctx), x.ctx == x.context)"
    c["nd.attr.stype"] = f"{x23}.stype"
    c["nd.attr.grad_none"] = f"{x23}.grad is None"
    c["nd.attr.T_2d"] = f"{x23}.T"
    c["nd.attr.T_1d"] = "mx.nd.array([1, 2, 3]).T"
    c["nd.attr.T_3d"] = "mx.nd.arange(24).reshape((2, 3, 4)).T"
    c["nd.asnumpy.type"] = f"a = {x23}.asnumpy()\nr = (type(a).__name__, a.dtype.name, a.shape)"
    c["nd.asnumpy.copy"] = "x = mx.nd.array([1, 2])\na = x.asnumpy()\na[0] = 9\nr = x"
    c["nd.asscalar.value"] = "mx.nd.array([3]).asscalar()"
    c["nd.asscalar.float64"] = "mx.nd.array([2.5], dtype='float64').asscalar()"
    c["nd.asscalar.int32"] = "mx.nd.array([7], dtype='int32').asscalar()"
    c["nd.asscalar.size_gt_1"] = "mx.nd.array([1, 2]).asscalar()"
    c["nd.astype.int32_truncates"] = "mx.nd.array([-1.7, -0.5, 0.5, 1.7, 2.5]).astype('int32')"
    c["nd.astype.float64"] = "mx.nd.array([1.5, 2]).astype('float64')"
    c["nd.astype.np_type"] = "mx.nd.array([1.5, 2]).astype(np.int64)"
    c["nd.astype.copy_false_same"] = "x = mx.nd.array([1, 2])\nr = x.astype('float32', copy=False) is x"
    c["nd.astype.copy_false_other"] = "x = mx.nd.array([1, 2])\nr = x.astype('int32', copy=False) is x"
    c["nd.astype.copy_true_same"] = "x = mx.nd.array([1, 2])\nr = x.astype('float32') is x"
    c["nd.astype.copy_independent"] = "x = mx.nd.array([1, 2])\ny = x.astype('float32')\ny += 1\nr = x"
    c["nd.copy.independent"] = "x = mx.nd.array([1, 2])\ny = x.copy()\ny += 5\nr = (x, y)"
    c["nd.copyto.context"] = "x = mx.nd.array([1, 2])\ny = x.copyto(mx.cpu(1))\nr = (repr(y.context), y is x, y)"
    c["nd.copyto.same_context_is_copy"] = "x = mx.nd.array([1, 2])\ny = x.copyto(mx.cpu(0))\ny += 1\nr = (y is x, x)"
    c["nd.copyto.ndarray_returns_target"] = (
        "x = mx.nd.array([1, 2, 3])\nz = mx.nd.zeros((3,))\nr = (x.copyto(z) is z, z)"
    )
    c["nd.copyto.casts_to_target_dtype"] = (
        "x = mx.nd.array([1.7, 2, 3])\nz = mx.nd.zeros((3,), dtype='int32')\nx.copyto(z)\nr = z"
    )
    c["nd.copyto.shape_mismatch"] = "mx.nd.array([1, 2, 3]).copyto(mx.nd.zeros((2,)))"
    c["nd.as_in_context.same"] = "x = mx.nd.array([1])\nr = x.as_in_context(mx.cpu(0)) is x"
    c["nd.as_in_context.other"] = "x = mx.nd.array([1])\ny = x.as_in_context(mx.cpu(1))\nr = (repr(y.context), y)"
    c["nd.wait_to_read"] = "mx.nd.array([1]).wait_to_read()"

    # -- reshape -------------------------------------------------------------------------------------------
    src = "mx.nd.arange(24).reshape((2, 3, 4))"
    reshapes = {
        "0_m1": "(0, -1)", "m2": "(-2,)", "m3_4": "(-3, 4)", "2_m3": "(2, -3)", "m4_1_2_0_0": "(-4, 1, 2, 0, 0)",
        "m4_m1_1_m2": "(-4, -1, 1, -2)", "0_0_m1": "(0, 0, -1)", "m1": "(-1,)", "6_m1": "(6, -1)",
        "m3_m2": "(-3, -2)", "2_0_m1": "(2, 0, -1)", "0_m4_3_1_4": "(0, -4, 3, 1, 4)",
    }
    for name, shape in reshapes.items():
        c[f"nd.reshape.{name}"] = f"{src}.reshape({shape}).shape"
    c["nd.reshape.reverse_m1_6"] = f"{src}.reshape((-1, 6), reverse=True).shape"
    c["nd.reshape.reverse_0_m1"] = f"{src}.reshape((0, -1), reverse=True).shape"
    c["nd.reshape.reverse_4_m1"] = f"{src}.reshape((4, -1), reverse=True).shape"
    c["nd.reshape.positional"] = f"{src}.reshape(4, 6)"
    c["nd.reshape.tuple"] = f"{src}.reshape((4, 6))"
    c["nd.reshape.list"] = f"{src}.reshape([4, 6]).shape"
    c["nd.reshape.keyword"] = f"{src}.reshape(shape=(4, 6)).shape"
    c["nd.reshape.function"] = f"mx.nd.reshape({src}, shape=(0, -1)).shape"
    for name, shape in {"size": "(5, 5)", "two_m1": "(-1, -1)", "indivisible": "(7, -1)",
                        "zero_past_end": "(0, 0, 0, 0)", "m3_past_end": "(-3, -3)"}.items():
        c[f"nd.reshape.error_{name}"] = f"{src}.reshape({shape})"

    # -- Python protocol -----------------------------------------------------------------------------------
    c["nd.len"] = f"len({x23})"
    c["nd.iter"] = f"[e for e in {x23}]"
    c["nd.iter_1d"] = "list(mx.nd.array([1, 2, 3]))"
    c["nd.getitem_int_1d"] = "mx.nd.array([1, 2, 3])[1]"
    c["nd.bool.one_nonzero"] = "bool(mx.nd.array([2]))"
    c["nd.bool.one_zero"] = "bool(mx.nd.array([0]))"
    c["nd.bool.many"] = "bool(mx.nd.array([1, 2]))"
    c["nd.bool.nan"] = "bool(mx.nd.array([np.nan]))"
    c["nd.empty_from_list"] = "mx.nd.array([])"
    reprs = {
        "2x3": x23, "one": "mx.nd.array([1.5])", "int32": "mx.nd.array([1, 2], dtype='int32')",
        "float64": "mx.nd.array([0.1, -2.25, 1e6], dtype='float64')", "big": "mx.nd.arange(2000).reshape((2, 1000))",
        "small": "mx.nd.array([1e-8, 1.0])", "nonfinite": "mx.nd.array([np.nan, np.inf, -np.inf])",
        "uint8": "mx.nd.array([1, 200], dtype='uint8')", "cpu1": "mx.nd.array([1, 2], ctx=mx.cpu(1))",
        "3d": "mx.nd.array([[[1, 2], [3, 4]]])", "int64": "mx.nd.array([1, 2, 3], dtype='int64')",
        "float16": "mx.nd.array([0.5], dtype='float16')", "empty": "mx.nd.array([])",
    }
    for name, expr in reprs.items():
        c[f"nd.repr.{name}"] = f"repr({expr})"
    c["nd.str_is_repr"] = f"str({x23}) == repr({x23})"
    c["nd.pickle.float32"] = f"pickle.loads(pickle.dumps({x23}))"
    c["nd.pickle.int32_cpu1"] = (
        "y = pickle.loads(pickle.dumps(mx.nd.array([1, -2], dtype='int32', ctx=mx.cpu(1))))\n"
        "r = (y, repr(y.context))"
    )

    # -- in-place operators --------------------------------------------------------------------------------
    c["nd.inplace.alias_sees_update"] = f"x = {x23}\ny = x\nx += 1\nr = (y is x, y)"
    c["nd.inplace.sequence"] = f"x = {x23}\ny = x\nx -= 1\nx *= 2\nx /= 4\nx %= 1\nr = (y is x, y)"
    c["nd.inplace.view_of_buffer"] = f"x = {x23}\nv = x[1]\nx += 10\nr = v"
    c["nd.inplace.array_rhs"] = f"x = {x23}\nx += mx.nd.array([10, 20, 30])\nr = x"
    c["nd.inplace.broadcast_grows"] = "x = mx.nd.zeros((1, 3))\nx += mx.nd.ones((2, 3))\nr = x"
    c["nd.inplace.dtype_mismatch"] = "x = mx.nd.zeros((2,))\nx += mx.nd.ones((2,), dtype='int32')\nr = x"
    c["nd.inplace.int_scalar"] = "x = mx.nd.array([1, 2], dtype='int32')\nx += 1.5\nr = x"
    c["nd.setitem_all"] = "x = mx.nd.array([1, 2, 3])\ny = x\nx[:] = 5\nr = y"

    # -- arithmetic with scalars and reflected forms -------------------------------------------------------
    xf = "mx.nd.array([-3, -1.5, 0.5, 2, 4])"
    for name, expr in {
        "add": "X + 2", "radd": "2 + X", "sub": "X - 2", "rsub": "2 - X", "mul": "X * 2", "rmul": "2 * X",
        "div": "X / 2", "rdiv": "1 / X", "mod": "X % 3", "rmod": "7 % X", "pow": "X ** 2", "rpow": "2 ** X",
        "neg": "-X", "abs": "abs(X)", "mod_neg_divisor": "X % -2", "rmod_neg": "-7.5 % X",
        "npscalar_radd": "np.float32(2) + X", "npscalar_rsub": "np.float64(2) - X",
    }.items():
        c[f"nd.scalar.{name}"] = expr.replace("X", xf)
    xa, xb = "mx.nd.array([[-3, 3], [1.5, 4]])", "mx.nd.array([2, -2])"
    for name, op in {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "pow": "**"}.items():
        c[f"nd.binary.{name}"] = f"{xa} {op} {xb}"
    c["nd.binary.broadcast_both"] = "mx.nd.ones((2, 1)) + mx.nd.array([1, 2, 3])"
    c["nd.binary.broadcast_mismatch"] = "mx.nd.array([1, 2]) + mx.nd.zeros((3,))"
    c["nd.binary.div_by_zero"] = "mx.nd.array([1, -1, 0]) / mx.nd.array([0, 0, 0])"

    # -- comparisons ---------------------------------------------------------------------------------------
    for name, expr in {
        "eq": "X == 2", "ne": "X != 2", "gt": "X > 0", "ge": "X >= 0.5", "lt": "X < 0", "le": "X <= 2",
        "reflected_lt": "2 < X", "reflected_eq": "2 == X",
        "array_eq": "X == mx.nd.array([-3, 0, 0.5, 0, 4])",
        "array_gt_broadcast": "mx.nd.array([[1], [3]]) > mx.nd.array([0, 2, 4])",
    }.items():
        c[f"nd.compare.{name}"] = expr.replace("X", xf)
    c["nd.compare.int_dtype"] = "mx.nd.array([1, 2, 3], dtype='int32') == 2"
    c["nd.compare.float64_dtype"] = "mx.nd.array([1, 2], dtype='float64') < mx.nd.array([2, 1], dtype='float64')"
    c["nd.compare.mixed_dtype"] = "mx.nd.array([1, 2]) == mx.nd.array([1, 2], dtype='float64')"

    # -- integer arithmetic (MXNet computes in the array's dtype: the scalar is cast first) ---------------
    xi = "mx.nd.array([-3, 3, 7], dtype='int32')"
    for name, expr in {
        "add_float": "X + 1.5", "mul_float": "X * 2.5", "sub_float": "X - 0.5", "rsub_float": "2.5 - X",
        "div": "X / 2", "div_neg": "X / -2", "rdiv": "1 / X", "mod": "X % 2", "mod_neg": "X % -2",
        "rmod": "7 % X", "pow": "X ** 2", "rpow": "2 ** X", "pow_neg": "X ** -1", "neg": "-X", "abs": "abs(X)",
        "div_self": "X / X",
        "div_array": "X / mx.nd.array([2, -2, 2], dtype='int32')",
        "mod_array": "X % mx.nd.array([2, -2, 2], dtype='int32')",
        "add_array": "X + mx.nd.array([1, 1, 1], dtype='int32')",
    }.items():
        c[f"nd.int.{name}"] = expr.replace("X", xi)
    xu = "mx.nd.array([10, 200], dtype='uint8')"
    c["nd.int.uint8_wraps_add"] = f"{xu} + 250"
    c["nd.int.uint8_wraps_mul"] = f"{xu} * 2"
    c["nd.int.uint8_neg"] = f"-{xu}"
    c["nd.int.int64"] = "mx.nd.array([2 ** 40, 3], dtype='int64') * 2"
    c["nd.int.mixed_int_float"] = "mx.nd.array([1, 2]) + mx.nd.array([1, 2], dtype='int32')"
    c["nd.int.mixed_float_float64"] = "mx.nd.array([1, 2]) * mx.nd.array([1, 2], dtype='float64')"
    c["nd.int.mixed_int32_int64"] = "mx.nd.array([1], dtype='int32') - mx.nd.array([1], dtype='int64')"

    # -- NaN and Inf propagation ---------------------------------------------------------------------------
    xn = "mx.nd.array([np.nan, np.inf, -np.inf, 1, 0])"
    for name, expr in {
        "add": "X + 1", "mul_zero": "X * 0", "eq_self": "X == X", "ne_self": "X != X", "gt": "X > 0",
        "div_zero": "X / 0", "rdiv": "1 / X", "abs": "abs(X)", "neg": "-X", "pow0": "X ** 0", "sub_self": "X - X",
        "rpow_one": "1 ** X",
    }.items():
        c[f"nd.nonfinite.{name}"] = expr.replace("X", xn)

    # -- autograd --------------------------------------------------------------------------------------------
    rec = "x = mx.nd.array([1., 2., 3.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = (x * x).sum()\n"
    c["ag.backward.basic"] = rec + "y.backward()\nr = x.grad"
    c["ag.backward.twice_without_retain"] = rec + "y.backward()\ny.backward()\nr = x.grad"
    c["ag.backward.retain_then_write"] = rec + "y.backward(retain_graph=True)\ny.backward()\nr = x.grad"
    c["ag.backward.grad_req_add"] = (
        "x = mx.nd.array([1., 2., 3.])\nx.attach_grad(grad_req='add')\nfor _ in range(3):\n"
        "    with mx.autograd.record():\n        y = (x * x).sum()\n    y.backward()\nr = x.grad"
    )
    c["ag.backward.grad_req_null_only"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad(grad_req='null')\nwith mx.autograd.record():\n"
        "    y = x * 2\ny.backward()\nr = x.grad"
    )
    c["ag.backward.grad_req_null_and_write"] = (
        "x = mx.nd.array([1., 2.])\nw = mx.nd.array([3., 4.])\nx.attach_grad(grad_req='null')\nw.attach_grad()\n"
        "with mx.autograd.record():\n    y = x * w\ny.backward()\nr = (x.grad is None, w.grad)"
    )
    c["ag.backward.out_grad"] = (
        "x = mx.nd.array([1., 2., 3.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * x\n"
        "y.backward(mx.nd.array([1., 10., 100.]))\nr = x.grad"
    )
    c["ag.backward.blocked_path_writes_zero"] = (
        "x = mx.nd.array([1., 2.])\nw = mx.nd.array([3., 4.])\nx.attach_grad()\nw.attach_grad()\n"
        "with mx.autograd.record():\n    y = x * 2\ny.backward()\nwith mx.autograd.record():\n"
        "    z = mx.nd.BlockGrad(x) * 3 + w\nz.backward()\nr = (x.grad, w.grad)"
    )
    c["ag.backward.unused_variable_keeps_grad"] = (
        "x = mx.nd.array([1., 2.])\nw = mx.nd.array([3., 4.])\nx.attach_grad()\nw.attach_grad()\n"
        "with mx.autograd.record():\n    y = x * 2\ny.backward()\nwith mx.autograd.record():\n"
        "    z = w * 5\nz.backward()\nr = (x.grad, w.grad)"
    )
    c["ag.inplace.variable_in_record"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    x *= 2\nr = x"
    )
    c["ag.inplace.graph_array_in_record"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * 3\n    y += 1\nr = y"
    )
    c["ag.inplace.plain_array_in_record"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nw = mx.nd.array([1., 1.])\nwith mx.autograd.record():\n"
        "    w += 1\n    y = x * w\ny.backward()\nr = (w, x.grad)"
    )
    c["ag.inplace.graph_array_after_record"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * 3\ny *= 2\n"
        "y.backward()\nr = (y, x.grad)"
    )
    c["ag.inplace.plain_accumulator_joins_graph"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nacc = mx.nd.zeros((2,))\nwith mx.autograd.record():\n"
        "    acc += x * x\n    z = acc * 2\nz.backward()\nr = x.grad"
    )
    c["ag.out_kw_joins_graph"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nw = mx.nd.zeros((2,))\nwith mx.autograd.record():\n"
        "    mx.nd.exp(x, out=w)\n    z = w * 2\nz.backward()\nr = x.grad"
    )
    c["ag.out_kw_graph_array_in_record"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * 3\n"
        "    mx.nd.exp(x, out=y)\nr = y"
    )
    c["ag.copyto_array_joins_graph"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nw = mx.nd.zeros((2,))\nwith mx.autograd.record():\n"
        "    x.copyto(w)\n    z = w * w * 3\nz.backward()\nr = x.grad"
    )
    c["ag.backward.unrecorded_head"] = "mx.nd.array([1.]).backward()"
    c["ag.backward.no_variable_in_graph"] = (
        "x = mx.nd.array([2.])\nwith mx.autograd.record():\n    y = x * 2\ny.backward()\nr = y"
    )
    c["ag.backward.outside_record"] = "x = mx.nd.array([2.])\nx.attach_grad()\ny = x * 2\ny.backward()\nr = x.grad"
    c["ag.backward.reuse_input"] = (
        "x = mx.nd.array([2.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * x * x + x * x + x\n"
        "y.backward()\nr = x.grad"
    )
    c["ag.backward.head_is_variable"] = "x = mx.nd.array([2., 3.])\nx.attach_grad()\nx.backward()\nr = x.grad"
    c["ag.backward.multiple_heads"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    a = x * 2\n    b = x * x\n"
        "mx.autograd.backward([a, b], [mx.nd.array([1., 1.]), mx.nd.array([2., 3.])])\nr = x.grad"
    )
    c["ag.backward.deep_chain"] = (
        "x = mx.nd.array([1.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x\n"
        "    for _ in range(20000):\n        y = y * 1.0001\ny.backward()\nr = x.grad"
    )
    c["ag.grad.returns_list"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * 3\n"
        "g = mx.autograd.grad(y, x)\nr = (type(g).__name__, g)"
    )
    c["ag.grad.head_grads"] = (
        "x = mx.nd.array([1., 2., 3.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * 2\n"
        "r = mx.autograd.grad(y, [x], head_grads=mx.nd.array([1., 2., 3.]))"
    )
    c["ag.grad.leaves_dot_grad"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * 2\n"
        "mx.autograd.grad(y, [x])\nr = x.grad"
    )
    c["ag.grad.twice_frees_graph"] = (
        "x = mx.nd.array([1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * 2\n"
        "mx.autograd.grad(y, [x])\nr = mx.autograd.grad(y, [x])"
    )
    c["ag.grad.unreachable_variable"] = (
        "x = mx.nd.array([1., 2.])\nw = mx.nd.array([1.])\nx.attach_grad()\nw.attach_grad()\n"
        "with mx.autograd.record():\n    y = x * 2\nr = mx.autograd.grad(y, [x, w])"
    )
    c["ag.grad.second_order_sin"] = (
        "x = mx.nd.array([0.5, 1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = mx.nd.sin(x)\n"
        "    dy = mx.autograd.grad(y, [x], create_graph=True, retain_graph=True)[0]\ndy.backward()\nr = (dy, x.grad)"
    )
    c["ag.mark_variables"] = (
        "x = mx.nd.array([0.5, 1., 2.])\ngx = mx.nd.zeros(3)\nmx.autograd.mark_variables([x], [gx])\n"
        "with mx.autograd.record():\n    y = (x * x).sum()\ny.backward()\nr = (gx, x.grad)"
    )
    c["ag.detach"] = (
        "x = mx.nd.array([0.5, 1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * x\n"
        "    z = y.detach() * x\nz.backward()\nr = x.grad"
    )
    c["ag.blockgrad"] = (
        "x = mx.nd.array([0.5, 1., 2.])\nx.attach_grad()\nwith mx.autograd.record():\n    y = x * x\n"
        "    z = mx.nd.BlockGrad(y) * x + mx.nd.stop_gradient(x)\nz.backward()\nr = x.grad"
    )
    c["ag.function.two_in_two_out"] = (
        "class F(mx.autograd.Function):\n"
        "    def forward(self, a, b):\n        self.save_for_backward(a, b)\n        return a * b, a + b\n"
        "    def backward(self, g1, g2):\n        a, b = self.saved_tensors\n        return g1 * b + g2, g1 * a + g2\n"
        "a = mx.nd.array([1., 2.])\nb = mx.nd.array([3., 4.])\na.attach_grad()\nb.attach_grad()\n"
        "with mx.autograd.record():\n    p, s = F()(a, b)\n    out = p * 2 + s * 3\nout.backward()\n"
        "r = (p, s, a.grad, b.grad)"
    )
    c["ag.flags.default"] = "(mx.autograd.is_recording(), mx.autograd.is_training())"
    c["ag.flags.scopes"] = (
        "f = lambda: (mx.autograd.is_recording(), mx.autograd.is_training())\nr = []\n"
        "with mx.autograd.record():\n    r.append(f())\n    with mx.autograd.pause():\n        r.append(f())\n"
        "    with mx.autograd.pause(train_mode=True):\n        r.append(f())\n"
        "    with mx.autograd.predict_mode():\n        r.append(f())\n    r.append(f())\nr.append(f())\n"
        "with mx.autograd.record(train_mode=False):\n    r.append(f())\nwith mx.autograd.train_mode():\n"
        "    r.append(f())\nwith mx.autograd.predict_mode():\n    r.append(f())\nr.append(f())"
    )
    c["ag.flags.set"] = (
        "r = [mx.autograd.set_recording(True), mx.autograd.is_recording(), mx.autograd.set_recording(False),\n"
        "     mx.autograd.set_training(True), mx.autograd.is_training(), mx.autograd.set_training(False),\n"
        "     mx.autograd.is_recording(), mx.autograd.is_training()]"
    )
    c["ag.flags.thread"] = (
        "res = {}\ndef probe():\n    res['flags'] = (mx.autograd.is_recording(), mx.autograd.is_training())\n"
        "with mx.autograd.record():\n    t = threading.Thread(target=probe)\n    t.start()\n    t.join()\n"
        "r = res['flags']"
    )

    # -- contexts --------------------------------------------------------------------------------------------
    c["ctx.repr"] = "(repr(mx.cpu()), repr(mx.cpu(1)), repr(mx.gpu(2)), repr(mx.Context('cpu', 3)))"
    c["ctx.str"] = "(str(mx.cpu(1)), str(mx.gpu()))"
    c["ctx.eq"] = (
        "(mx.Context('cpu', 1) == mx.cpu(1), mx.cpu(0) == mx.cpu(1), mx.cpu(0) == mx.gpu(0), "
        "mx.cpu() == 'cpu(0)', mx.cpu(1) != mx.cpu(1))"
    )
    c["ctx.hash"] = "(hash(mx.cpu(1)) == hash(mx.Context('cpu', 1)), len({mx.cpu(0), mx.cpu(0), mx.cpu(1)}))"
    c["ctx.attrs"] = "(mx.cpu(3).device_type, mx.cpu(3).device_id, mx.cpu().device_typeid, mx.gpu().device_typeid)"
    c["ctx.from_context"] = "repr(mx.Context(mx.gpu(3)))"
    c["ctx.default_id"] = "repr(mx.Context('gpu'))"
    c["ctx.current_default"] = "repr(mx.current_context())"
    c["ctx.with_nesting"] = (
        "r = [repr(mx.current_context())]\nwith mx.cpu(1):\n    r.append(repr(mx.current_context()))\n"
        "    r.append(repr(mx.nd.zeros((1,)).context))\n    with mx.cpu(2):\n"
        "        r.append(repr(mx.current_context()))\n"
        "    r.append(repr(mx.current_context()))\nr.append(repr(mx.current_context()))"
    )
    c["ctx.with_exception_restores"] = (
        "try:\n    with mx.cpu(3):\n        raise KeyError('x')\nexcept KeyError:\n    pass\n"
        "r = repr(mx.current_context())"
    )
    c["ctx.with_returns_context"] = "with mx.cpu(4) as c:\n    r = repr(c)"
    c["ctx.new_thread_default"] = (
        "res = []\nwith mx.cpu(5):\n    t = threading.Thread(target=lambda: res.append(repr(mx.current_context())))\n"
        "    t.start()\n    t.join()\nr = res"
    )
    c["ctx.num_gpus"] = "mx.context.num_gpus()"
    c["ctx.gpu_array"] = "mx.nd.zeros((1,), ctx=mx.gpu(0)).asnumpy()"
    c["ctx.mixed_cpu_ids"] = (
        "a = mx.nd.array([1, 2], ctx=mx.cpu(0))\nb = mx.nd.array([1, 2], ctx=mx.cpu(1))\n"
        "r = (a + b, repr((a + b).context), repr((b + a).context), mx.nd.broadcast_add(b, a))"
    )

    # -- errors ----------------------------------------------------------------------------------------------
    c["err.mxneterror_is_runtimeerror"] = "issubclass(mx.base.MXNetError, RuntimeError)"
    c["err.top_level_alias"] = "mx.MXNetError is mx.base.MXNetError"
    c["err.dot_mismatch"] = "mx.nd.dot(mx.nd.zeros((2, 3)), mx.nd.zeros((4, 5)))"
    c["err.broadcast_mismatch"] = "mx.nd.broadcast_add(mx.nd.zeros((2, 3)), mx.nd.zeros((4,)))"
    c["err.concat_mismatch"] = "mx.nd.concat(mx.nd.zeros((2, 3)), mx.nd.zeros((3, 4)), dim=0)"
    c["err.reshape_size"] = "mx.nd.zeros((2, 3)).reshape((4, 2))"
    c["err.sum_axis_range"] = "mx.nd.sum(mx.nd.zeros((3,)), axis=3)"
    c["err.unknown_attribute"] = "mx.nd.sum(mx.nd.zeros((3,)), foo=1)"
    c["err.bad_enum"] = "mx.nd.topk(mx.nd.zeros((3,)), ret_typ='bad')"
    c["err.missing_required"] = "mx.nd.one_hot(mx.nd.zeros((3,)))"
    return c


CASES: dict[str, str] = _cases()

# Cases whose values need a looser comparison than the default (rounding differences accumulate).
TOLERANCES: dict[str, float] = {"ag.backward.deep_chain": 1e-4}


def run(code: str, mx: Any) -> Any:
    """Run one case with `mx` as the library; returns the value, or the exception it raised."""
    ns = {"mx": mx, "np": np, "pickle": pickle, "threading": threading}
    try:
        if "\n" not in code:
            return eval(code, ns)  # noqa: S307 — trusted test source
        exec(code, ns)  # noqa: S102
        return ns["r"]
    except Exception as e:  # the exception is the result of an error case
        return e
    finally:
        # A case that flips the global flags must not leak them into the next case.
        mx.autograd.set_recording(False)
        mx.autograd.set_training(False)


def encode(value: Any) -> Any:
    """A JSON-able description of a result: arrays by dtype, shape and values; errors by builtin bases."""
    if isinstance(value, BaseException):
        bases = [b.__name__ for b in _BUILTIN_BASES if isinstance(value, b)]
        return {"kind": "error", "type": type(value).__name__, "bases": bases}
    if hasattr(value, "asnumpy"):
        a = value.asnumpy()
        return {"kind": "nd", "dtype": a.dtype.name, "shape": list(a.shape), "values": _plain(a.tolist())}
    if isinstance(value, np.ndarray):
        return {"kind": "np", "dtype": value.dtype.name, "shape": list(value.shape), "values": _plain(value.tolist())}
    if isinstance(value, np.generic):
        return {"kind": "npscalar", "type": type(value).__name__, "value": _plain(value.item())}
    if isinstance(value, (list, tuple)):
        return {"kind": "seq", "items": [encode(v) for v in value]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"kind": "py", "type": type(value).__name__, "value": _plain(value)}
    return {"kind": "other", "type": type(value).__name__}


def _plain(v: Any) -> Any:
    """Floats that JSON cannot hold become strings ('nan', 'inf', '-inf')."""
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


# -- comparison (test side) ------------------------------------------------------------------------------------
ORACLE_FILE = "core_mxnet_1_9_1.json"


def load_expected() -> dict[str, dict]:
    """The recorded MXNet results, by case name."""
    import json
    from pathlib import Path

    return json.loads((Path(__file__).resolve().parent / ORACLE_FILE).read_text())["cases"]


def names(prefix: str) -> list[str]:
    """The case names of one group ('nd.', 'ag.', 'ctx.', 'err.')."""
    return sorted(n for n in CASES if n.startswith(prefix))


def check_case(name: str, mx: Any) -> None:
    """Run case `name` with mxplug and assert it matches what MXNet recorded."""
    expected = load_expected().get(name)
    code = CASES[name]
    assert expected is not None, f"case {name} has no MXNet result: re-run tests/oracle/record_core.py"
    assert expected["code"] == code, f"case {name} changed since it was recorded: re-run record_core.py"
    value = run(code, mx)
    if isinstance(value, BaseException) and expected["result"]["kind"] != "error":
        raise AssertionError(f"{name}: MXNet returned a result, mxplug raised {type(value).__name__}") from value
    if isinstance(value, BaseException):
        assert isinstance(value, mx.base.MXNetError), (
            f"{name}: mxplug raised {type(value).__name__}: {value} — every error must derive from MXNetError"
        )
    _compare(encode(value), expected["result"], name, TOLERANCES.get(name, 1e-6))


def _compare(got: Any, want: Any, where: str, rtol: float) -> None:
    if want["kind"] == "error":
        assert got["kind"] == "error", f"{where}: MXNet raised {want['type']}, mxplug returned {got}"
        missing = set(want["bases"]) - set(got["bases"])
        assert not missing, f"{where}: mxplug's {got['type']} is not a {sorted(missing)} as MXNet's {want['type']} is"
        return
    assert got["kind"] == want["kind"], f"{where}: kind {got['kind']} != MXNet's {want['kind']} ({got} vs {want})"
    kind = want["kind"]
    if kind in ("nd", "np"):
        assert (got["dtype"], got["shape"]) == (want["dtype"], want["shape"]), (
            f"{where}: dtype/shape {got['dtype']} {got['shape']} != MXNet's {want['dtype']} {want['shape']}"
        )
        g = np.array(_unplain(got["values"]), dtype="float64")
        w = np.array(_unplain(want["values"]), dtype="float64")
        ok = np.array_equal(g, w, equal_nan=True) if want["dtype"][0] in "iub" else np.allclose(
            g, w, rtol=rtol, atol=0, equal_nan=True)
        assert ok, f"{where}: values {got['values']} != MXNet's {want['values']}"
    elif kind == "seq":
        n, m = len(got["items"]), len(want["items"])
        assert n == m, f"{where}: {n} items, MXNet's {m}"
        for i, (g, w) in enumerate(zip(got["items"], want["items"], strict=True)):
            _compare(g, w, f"{where}[{i}]", rtol)
    elif kind in ("py", "npscalar"):
        assert got["type"] == want["type"], f"{where}: type {got['type']} != MXNet's {want['type']}"
        if isinstance(want["value"], float):
            assert math.isclose(got["value"], want["value"], rel_tol=rtol), f"{where}: {got} != {want}"
        else:
            assert got["value"] == want["value"], f"{where}: {got['value']!r} != MXNet's {want['value']!r}"
    else:
        assert got == want, f"{where}: {got} != {want}"


def _unplain(v: Any) -> Any:
    if isinstance(v, str):
        return float(v)
    if isinstance(v, list):
        return [_unplain(x) for x in v]
    return v
