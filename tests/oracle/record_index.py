"""MXNet 1.9 results for the index family and NDArray indexing (see family_oracle.py); run with the oracle's
Python to record: /work/oracle/mxnet/bin/python tests/oracle/record_index.py

Cases named "op.*" exercise the operators, "get.*"/"set.*"/"view.*"/"grad.*" NDArray indexing.
Not here, on purpose (MXNet 1.9 crashes or returns garbage; mxplug does what NumPy does, tested in
tests/test_indexing.py): empty slices past the first axis (`x[:, 2:1]`), negative or out-of-range indices in
assignments (`x[[-1]] = v`), scatter_nd with negative indices, slice with out-of-range bounds (MKLDNN fails),
gradients of gather_nd with negative indices and of `x[1, 2]` (MXNet sends them to the wrong place / drops
them), `x[:, True]`, 0-d integer arrays as keys, and duplicate scatter targets (undefined order). Nor any
empty result: MXNet 1.9's CPU build corrupts its engine on them (a later, unrelated case then fails).
"""

from __future__ import annotations

if __package__:
    from .family_oracle import check, record
else:
    from family_oracle import check, record

X = "mx.nd.arange(12).reshape((3, 4))"
X3 = "mx.nd.arange(24).reshape((2, 3, 4))"
X35 = "mx.nd.arange(60).reshape((3, 4, 5))"
V = "mx.nd.arange(5)"
XI = "mx.nd.arange(12, dtype='int32').reshape((3, 4))"
A = "mx.nd.array"


def _grad(x: str, call: str) -> str:
    """x's gradient under a fixed, non-uniform head gradient (0, 1, 2, ... over the output)."""
    return (f"x = {x}\nx.attach_grad()\nwith mx.autograd.record():\n    y = {call}\n"
            "y.backward(mx.nd.arange(y.size).reshape(y.shape))\nr = (y, x.grad)")


def _set(x: str, key: str, value: str) -> str:
    return f"x = {x}\nx[{key}] = {value}\nr = x"


def _op_cases() -> dict[str, str]:
    c: dict[str, str] = {}
    for name, args in {
        "basic": "begin=(0, 1), end=(2, 4)", "none_neg_step": "begin=(None, 0), end=(None, 3), step=(-1, 2)",
        "one_axis": "begin=(1,), end=(3,)", "neg": "begin=(-2, -3), end=(None, -1)", "empty_begin": "begin=(), end=()",
        "steps": "begin=(None, None), end=(None, None), step=(2, -3)", "strings": "begin='(None, 1)', end='(2, None)'",
        "ints": "begin=1, end=3", "rev_past_end": "begin=(10,), end=(None,), step=(-1,)",
        "rev_neg_end": "begin=(2,), end=(-10,), step=(-1,)",
    }.items():
        c[f"op.slice.{name}"] = f"mx.nd.slice({X}, {args})"
    c["op.slice.3d"] = f"mx.nd.slice({X3}, begin=(1, None, 1), end=(None, 2, None), step=(None, -1, 2))"
    c["op.slice.int32"] = f"mx.nd.slice({XI}, begin=(1,), end=(None,))"
    c["op.slice.fluent"] = f"{X}.slice(begin=(1,), end=(2,))"
    for name, args in {"ax1": "axis=1, begin=-2, end=None", "neg_axis": "axis=-1, begin=1, end=3",
                       "end_neg": "axis=0, begin=0, end=-1", "begin_neg": "axis=0, begin=-1, end=None"}.items():
        c[f"op.slice_axis.{name}"] = f"mx.nd.slice_axis({X3}, {args})"
    c["op.slice_axis.fluent"] = f"{X}.slice_axis(axis=1, begin=1, end=2)"
    like = "mx.nd.zeros((1, 2, 3))"
    for name, args in {"all": "", "axes": ", axes=(0, 2)", "neg": ", axes=(-1,)"}.items():
        c[f"op.slice_like.{name}"] = f"mx.nd.slice_like({X3}, {like}{args})"
    c["op.slice_like.ndim_differs"] = f"mx.nd.slice_like({X3}, mx.nd.zeros((2, 2)), axes=(1,))"
    c["op.slice_like.int_like"] = f"mx.nd.slice_like({V}, mx.nd.zeros(2, dtype='int32'))"

    idx = f"{A}([0, 4, 7, -1, -8, 2.7, -0.5])"
    c["op.take.clip"] = f"mx.nd.take({V}, {idx})"
    c["op.take.wrap"] = f"mx.nd.take({V}, {idx}, mode='wrap')"
    c["op.take.raise_in_range"] = f"mx.nd.take({V}, {A}([0, 4, 2.9]), mode='raise')"
    c["op.take.axis1_2d_idx"] = f"mx.nd.take({X}, {A}([[0, 3], [1, 5]]), axis=1)"
    c["op.take.axis1_wrap"] = f"mx.nd.take({X}, {A}([[0, 3], [-1, -2]]), axis=1, mode='wrap')"
    c["op.take.axis_neg"] = f"mx.nd.take({X3}, {A}([2, 0]), axis=-1)"
    c["op.take.axis_mid"] = f"mx.nd.take({X3}, {A}([[2], [0]]), axis=1)"
    c["op.take.int32_idx"] = f"mx.nd.take({X}, {A}([2, 0], dtype='int32'))"
    c["op.take.int64_idx_f64"] = f"mx.nd.take({X}.astype('float64'), {A}([2, 0], dtype='int64'))"
    c["op.take.int_data"] = f"mx.nd.take({XI}, {A}([2, 0]))"
    c["op.take.fluent"] = f"{X}.take({A}([1]))"
    c["op.batch_take.clip"] = f"mx.nd.batch_take({X}, {A}([5, -1, 1], dtype='int32'))"

    for name, args in {
        "default": f"{A}([0, 3, 9])", "neg": f"{A}([-1, -5, 1])", "wrap": f"{A}([-1, -5, 9]), mode='wrap'",
        "axis0": f"{A}([0, 2, 1, 5]), axis=0", "keepdims": f"{A}([0, 2, 1]), axis=1, keepdims=True",
        "kept_index": f"{A}([[0], [2], [1]]), axis=1", "kept_index_keepdims": f"{A}([[0], [2], [1]]), keepdims=True",
        "kept_index_axis0": f"{A}([[0, 2, 1, 0]]), axis=0", "float_index": f"{A}([0.7, 2.2, 1.9])",
        "int32_index": f"{A}([0, 2, 1], dtype='int32')",
    }.items():
        c[f"op.pick.{name}"] = f"mx.nd.pick({X}, {args})"
    c["op.pick.3d_ax2"] = f"mx.nd.pick({X3}, {A}([[0, 1, 2], [3, 2, 1]]), axis=2)"
    c["op.pick.3d_ax1"] = f"mx.nd.pick({X3}, {A}([[0, 1, 2, 0], [2, 2, 1, 1]]), axis=1)"
    c["op.pick.1d"] = f"mx.nd.pick({V}, {A}([3]), axis=0)"
    c["op.pick.int_data"] = f"mx.nd.pick({XI}, {A}([1, 0, 3]))"
    c["op.pick.alias"] = f"mx.nd.choose_element_0index({X}, {A}([1, 0, 3]))"
    c["op.pick.fluent"] = f"{X}.pick({A}([1, 1, 1]))"

    hot = f"{A}([1, 0, 2, -1, 3, 1.7])"
    c["op.one_hot.basic"] = f"mx.nd.one_hot({hot}, 3)"
    c["op.one_hot.on_off_int32"] = f"mx.nd.one_hot({hot}, 3, on_value=8, off_value=-1, dtype='int32')"
    c["op.one_hot.2d"] = f"mx.nd.one_hot({A}([[1, 0], [2, 1]]), 4)"
    c["op.one_hot.int_indices"] = f"mx.nd.one_hot({A}([1, 2], dtype='int32'), 3)"
    c["op.one_hot.float16"] = f"mx.nd.one_hot({A}([1, 2]), 3, dtype='float16')"
    c["op.one_hot.float64_fraction"] = f"mx.nd.one_hot({A}([1, 2]), 3, dtype='float64', on_value=0.1, off_value=-2.5)"
    c["op.one_hot.uint8_wraps"] = f"mx.nd.one_hot({A}([1, 2]), 3, dtype='uint8', on_value=-1)"
    c["op.one_hot.int64_truncates"] = f"mx.nd.one_hot({A}([1, 2]), 3, dtype='int64', on_value=2.7)"
    c["op.one_hot.fluent"] = f"{A}([1, 2]).one_hot(3)"

    c["op.gather_nd.doc1"] = f"mx.nd.gather_nd({A}([[0, 1], [2, 3]]), {A}([[1, 1, 0], [0, 1, 0]]))"
    c["op.gather_nd.doc2"] = f"mx.nd.gather_nd({A}([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]), {A}([[0, 1], [1, 0]]))"
    c["op.gather_nd.negative"] = f"mx.nd.gather_nd({V}, {A}([[-1, -5, 2]]))"
    c["op.gather_nd.float_idx"] = f"mx.nd.gather_nd({V}, {A}([[1.7, 2.2]]))"
    c["op.gather_nd.partial"] = f"mx.nd.gather_nd({X3}, {A}([[1, 0], [2, 1]]))"
    c["op.gather_nd.2d_points"] = f"mx.nd.gather_nd({X3}, {A}([[[1, 0]], [[2, 1]], [[3, 0]]]))"
    c["op.gather_nd.int_data"] = f"mx.nd.gather_nd({XI}, {A}([[2], [1]], dtype='int64'))"
    c["op.scatter_nd.doc1"] = f"mx.nd.scatter_nd({A}([2, 3, 0]), {A}([[1, 1, 0], [0, 1, 0]]), shape=(2, 2))"
    c["op.scatter_nd.doc2"] = (f"mx.nd.scatter_nd({A}([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]), {A}([[0, 1], [1, 1]]),"
                               " shape=(2, 2, 2, 2))")
    c["op.scatter_nd.partial"] = f"mx.nd.scatter_nd({A}([[1, 2], [3, 4]]), {A}([[1, 0]]), shape=(3, 2))"
    c["op.scatter_nd.int_data"] = f"mx.nd.scatter_nd({A}([1, 2], dtype='int32'), {A}([[1, 0]]), shape=(3,))"
    c["op.backward_gather_nd.accumulates"] = (
        f"mx.nd._internal._backward_gather_nd({A}([2, 3, 0, 4]), {A}([[1, 1, 0, 1], [1, 1, 0, 0]]), shape=(2, 2))")
    c["op.scatter_set_nd.doc"] = (f"x = {A}([[1, 1], [1, 1]])\nmx.nd._internal._scatter_set_nd(x, {A}([2, 3, 0]), "
                                  f"{A}([[1, 1, 0], [0, 1, 0]]), shape=(2, 2), out=x)\nr = x")
    for name, args in {"basic": "mx.nd.ones((2, 2)), begin=(0, 1), end=(2, 3)",
                       "steps": f"{A}([[1, 2], [3, 4]]), begin=(None, None), end=(None, None), step=(2, -2)",
                       "negative": f"{A}([[5, 6]]), begin=(-1, -2), end=(None, None)",
                       "leading_axes": f"{A}([[5, 6, 7, 8]]), begin=(1,), end=(2,)"}.items():
        c[f"op.slice_assign.{name}"] = f"mx.nd._internal._slice_assign(mx.nd.zeros((3, 4)), {args})"
    c["op.slice_assign.alias"] = f"mx.nd._internal._crop_assign(mx.nd.zeros((3, 4)), {A}([[1, 2]]), (1, 1), (2, 3))"
    for name, args in {"basic": "scalar=7, begin=(0, 1), end=(2, 3)",
                       "step": "7, begin=(None,), end=(None,), step=(-2,)", "positional": "7, (0,), (1,)",
                       "default_scalar": "begin=(1,), end=(None,)"}.items():
        c[f"op.slice_assign_scalar.{name}"] = f"mx.nd._internal._slice_assign_scalar({X}, {args})"
    c["op.slice_assign_scalar.int_truncates"] = (
        f"mx.nd._internal._slice_assign_scalar({XI}, scalar=7.9, begin=(1,), end=(None,))")

    c["grad.slice"] = _grad(X, "mx.nd.slice(x, begin=(None, 1), end=(None, None), step=(-1, 2))")
    c["grad.slice_axis"] = _grad(X3, "mx.nd.slice_axis(x, axis=1, begin=-2, end=None)")
    c["grad.slice_like"] = _grad(X, "mx.nd.slice_like(x, mx.nd.zeros((2, 2)))")
    c["grad.take_clip"] = _grad(X, f"mx.nd.take(x, {A}([0, 5, -1, 1, 0]))")
    c["grad.take_wrap_axis1"] = _grad(X, f"mx.nd.take(x, {A}([[0, 5], [-1, 1]]), axis=1, mode='wrap')")
    c["grad.pick_clip"] = _grad(X, f"mx.nd.pick(x, {A}([0, 5, -1]))")
    c["grad.pick_wrap_keepdims"] = _grad(X, f"mx.nd.pick(x, {A}([0, 5, -1]), mode='wrap', keepdims=True)")
    c["grad.pick_axis0"] = _grad(X, f"mx.nd.pick(x, {A}([0, 2, 1, 2]), axis=0)")
    c["grad.gather_nd_repeats"] = _grad(X, f"mx.nd.gather_nd(x, {A}([[0, 0, 2], [1, 1, 3]]))")
    c["grad.gather_nd_partial"] = _grad(X3, f"mx.nd.gather_nd(x, {A}([[1, 0, 1]]))")
    c["grad.scatter_nd"] = _grad(f"{A}([1., 2., 3.])", f"mx.nd.scatter_nd(x, {A}([[1, 0, 2]]), shape=(4,))")
    return c


# Keys for x = arange(24).reshape((2, 3, 4)) that MXNet 1.9 answers.
GET_KEYS = {
    "int": "1", "neg_int": "-1", "int_int": "1, 2", "all_ints": "1, 2, 3", "all_ints_neg": "1, 2, -1",
    "np_int": "np.int64(1)", "bool_is_int": "True", "colon_int": ":, 1", "ellipsis_int": "..., 1",
    "int_ellipsis": "0, ...", "ellipsis_mid": "0, ..., 1", "none": "None", "none_mid": "1, None, ::2",
    "none_last": ":, :, :, None", "none_after_ints": "0, 0, None", "none_after_all_ints": "0, 0, 0, None",
    "none_first_ints": "None, 0, 0, 0", "rev": "::-1", "rev_step2": ":, ::-2", "rev_inner": ":, :, 3:0:-1",
    "step": "::2, 1:, ::3", "clamped": ":, -10:10", "past_end": "1:10",
    "tuple_key": "(1, 0)", "slice_then_int": "1:, 2", "int_slice_view": "1, :1",
    "list": "[1, 0]", "list_list": "[1, 0], [2, 0]", "list_colon_list": "[1, 0], :, [2, 0]",
    "colon_list_int": ":, [2, 0], 1", "int_colon_list": "1, :, [2, 0]", "nested_list": "[[1], [0]], [2, 0]",
    "np_array": "np.array([1, 0])", "nd_index": f"{A}([1, 0])", "nd_float_index": f"{A}([1.7, 0])",
    "nd_int64_index": f"{A}([-1], dtype='int64')", "float_list": "[1.5]", "neg_list": "[-1]",
    "list_bools": "[True, False]", "np_bools": "np.array([True, False])", "none_list": "None, [1, 0]",
    "list_none": "[1, 0], None", "list_none_list": "[1, 0], None, [1, 0]", "colon_none_list": ":, None, [1, 0]",
    "range": "range(2)", "tuple_in_tuple": "(1, 0),", "slice_list": "1:, [0, 2]", "list_slice": "[1], 1:3",
    "step_list": "::-1, [0, 2]", "np_2d_bcast": "np.array([[0], [1]]), np.array([1, 2])",
}
GET_KEYS_3D = {  # on x = arange(60).reshape((3, 4, 5)): where the arrays' block goes, and None around it
    "split": "[0, 2], :, [1, 3]", "adjacent_last": ":, [0, 2], [1, 3]", "int_split": "1, :, [1, 3]",
    "list_colon_int": "[1], :, 2", "ellipsis_list": "..., [1, 3]", "none_split": "None, [0, 2], None, :, [1, 3]",
    "list_none_colon_list": "[0, 2], None, :, [1, 3]", "colon_none_adjacent": ":, None, [0, 2], [1, 3]",
    "adjacent_none": "[0, 2], [1, 3], None", "list2d_none": ":, [[0], [2]], None", "int_none_list": "1, None, [1, 3]",
}

# Assignments into x = arange(12).reshape((3, 4)) (key, value).
SET_CASES = {
    "int_scalar": ("1", "9"), "neg_int": ("-1", "9"), "point": ("1, 2", "9"),
    "column_nd": (":, 1", f"{A}([7, 8, 9])"), "column_np": (":, 1", "np.array([7, 8, 9])"),
    "column_list": (":, 1", "[7, 8, 9]"), "column_bcast": (":, 1", f"{A}([7])"),
    "block_row_bcast": (":, 1:3", f"{A}([7, 8])"), "rev_steps": ("::-1, ::2", f"{A}([[1, 2], [3, 4], [5, 6]])"),
    "none_int": ("None, 1", f"{A}([[1, 2, 3, 4]])"), "int_none": ("1, None", f"{A}([1, 2, 3, 4])"),
    "ellipsis": ("...", "5"), "all_np": (":", "np.ones((3, 4)) * 2"), "all_np_bcast": (":", "np.array([1, 2, 3, 4])"),
    "all_nd_bcast": (":", f"{A}([1, 2, 3, 4])"), "all_nd_int": (":", f"{A}([1, 2, 3, 4], dtype='int32')"),
    "all_np_float64": (":", "np.array([1.5, 2, 3, 4])"), "all_true": (":", "True"),
    "leading_ones_trimmed": ("0", "mx.nd.ones((1, 1, 1, 4))"), "np_scalar": ("1", "np.float32(2.5)"),
    "rows_scalar": ("[0, 2]", "5"), "rows_nd": ("[0, 2]", f"{A}([1, 2, 3, 4])"),
    "points_nd": ("[0, 2], [1, 3]", f"{A}([-1, -2])"), "columns_nd": (":, [1, 3]", f"{A}([[1, 2], [3, 4], [5, 6]])"),
    "int_list": ("1, [1, 3]", f"{A}([1, 2])"), "nd_index": (f"{A}([0, 2])", "5"),
    "nd_index_nd_value": (f"{A}([2, 0])", f"{A}([[1, 2, 3, 4], [5, 6, 7, 8]])"),
    "list_np_value": ("[1], 1:3", "np.array([[7, 8]])"),
}


def _indexing_cases() -> dict[str, str]:
    c: dict[str, str] = {}
    for name, key in GET_KEYS.items():
        c[f"get.{name}"] = f"{X3}[{key}]"
    for name, key in GET_KEYS_3D.items():
        c[f"get.3d.{name}"] = f"{X35}[{key}]"
    c["get.1d_int"] = f"{V}[3]"
    c["get.1d_neg"] = f"{V}[-1]"
    c["get.1d_list"] = f"{V}[[4, -5, 0]]"
    c["get.1d_nd_index"] = f"{V}[{A}([2])]"
    c["get.1d_np_bools"] = f"{V}[np.array([True, False, True, False, True])]"
    c["get.one_element"] = "mx.nd.ones((1,))[0]"
    c["get.int32"] = f"{XI}[1:, [0, 3]]"
    c["get.self_colon"] = f"x = {X}\nr = x[:] is x"
    c["get.self_tuple"] = f"x = {X}\nr = x[()] is x"
    c["get.iter"] = f"list({X})"
    for name, (key, value) in SET_CASES.items():
        c[f"set.{name}"] = _set(X, key, value)
    c["set.int32_slice_truncates"] = _set(XI, "1:2", "5.7")
    c["set.int32_adv_truncates"] = _set(XI, "[1]", "5.7")
    c["set.int32_point"] = _set(XI, "1, 1", "-3.7")
    c["set.float_values_to_int"] = _set(XI, "0", "[1.5, -2.5, 3.9, 4]")
    c["set.1d_int"] = _set(V, "1", "7")
    c["set.1d_nd"] = _set(V, "1", f"{A}([7])")
    c["set.3d_none_squeezed"] = _set(X3, "1, None, 0", f"{A}([[1, 2, 3, 4]])")
    c["set.3d_list_none_squeezed"] = _set(X3, "[1], None, 0", f"{A}([[[5, 6, 7, 8]]])")

    # Views: basic indexing of a contiguous region shares memory both ways; other results are copies.
    def view(key: str, act: str, result: str = "x") -> str:
        return f"x = {X}\ny = x[{key}]\n{act}\nr = {result}"

    c["view.row_write"] = view("1", "y[:] = -1")
    c["view.rows_iadd"] = view("1:3", "y += 100")
    c["view.row_slice_write"] = view("1, 1:3", "y[:] = -1")
    c["view.none_row_sees_base"] = view("None, 1", "x[1] = 5", "y")
    c["view.point_sees_base"] = view("1, 2", "x[1] = 5", "y")
    c["view.full_sees_base"] = view(":, :", "x[1] = 5", "y")
    c["view.row_range_sees_base"] = view("1:2, :", "x[1] = 5", "y")
    c["view.nested_write"] = view("1", "y[1] = 50")
    c["view.column_is_copy"] = view(":, 1", "y[:] = -1")
    c["view.reversed_is_copy"] = view("2:0:-1", "y[:] = -1")
    c["view.strided_is_copy"] = view("1:2, ::2", "x[1] = 5", "y")
    c["view.advanced_is_copy"] = view("[1]", "x[1] = 5", "y")

    # Gradients through indexing.
    for name, key in {"int": "1", "rows": "1:3", "column": ":, 1", "reversed": "::-1", "rows_repeated": "[0, 0, 2]",
                      "points_repeated": "[0, 0], [1, 1]", "none_int": "None, 1", "all": ":", "steps": "1:, ::-2",
                      "ellipsis": "..., 2", "cols_list": ":, [3, 0, 3]"}.items():
        c[f"grad.get.{name}"] = _grad(X, f"x[{key}]")
    c["grad.set.full_overwrite_records_value"] = (
        "y = mx.nd.zeros(4)\nw = mx.nd.ones(4)\nw.attach_grad()\nwith mx.autograd.record():\n    y[:] = w * 5\n"
        "    z = (y * mx.nd.array([1, 2, 3, 4])).sum()\nz.backward()\nr = (w.grad, y)")
    c["grad.set.variable_outside_record"] = (
        "x = mx.nd.arange(4)\nx.attach_grad()\nx[1] = 9\nwith mx.autograd.record():\n    z = (x * x).sum()\n"
        "z.backward()\nr = (x.grad, x)")
    return c


CASES: dict[str, str] = {**_op_cases(), **_indexing_cases()}


def check_case(name: str, mx) -> None:
    check("index", CASES, name, mx)


if __name__ == "__main__":
    record("index", CASES)
