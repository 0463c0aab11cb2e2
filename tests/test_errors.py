"""The error hierarchy and the quality of error messages: every error is an MXNetError (a RuntimeError, as in
MXNet) that also derives from the fitting built-in, and messages name the operator, the argument and the
shapes or choices involved."""

import pytest

import mxplug as mx
from mxplug import base
from mxplug.registry import parse_attr_spec
from tests import toy_backend
from tests.oracle.core_cases import check_case, names


@pytest.fixture
def toy():
    with toy_backend.installed() as ctx:
        yield ctx


@pytest.mark.parametrize("name", names("err."))
def test_matches_mxnet(name):
    check_case(name, mx)


# -- hierarchy --------------------------------------------------------------------------------------------------
DECLARED_BASES = {
    "ShapeError": ValueError, "DTypeError": TypeError, "OperatorAttributeError": ValueError,
    "IndexingError": IndexError, "UnknownOperatorError": AttributeError, "KernelNotFoundError": NotImplementedError,
    "BackendUnavailableError": RuntimeError, "ContextMismatchError": ValueError, "AutogradError": RuntimeError,
    "PluginError": RuntimeError, "RegistryError": ValueError, "FileFormatError": ValueError,
}


def test_mxneterror_is_one_class_and_a_runtime_error():
    assert mx.MXNetError is mx.base.MXNetError is base.MXNetError
    assert issubclass(mx.MXNetError, RuntimeError)


@pytest.mark.parametrize("name", [n for n in base.__all__ if n != "MXNetError"])
def test_every_error_is_an_mxneterror_with_its_builtin(name):
    cls = getattr(base, name)
    assert issubclass(cls, base.MXNetError)
    builtin = DECLARED_BASES[cls.__name__]
    assert issubclass(cls, builtin)
    err = cls("message")
    assert str(err) == "message" and isinstance(err, RuntimeError)


# -- shape messages ---------------------------------------------------------------------------------------------
def test_dot_mismatch_message():
    with pytest.raises(mx.base.ShapeError, match=r"dot.*\(2, 3\).*\(4, 5\)"):
        mx.nd.dot(mx.nd.zeros((2, 3)), mx.nd.zeros((4, 5)))


@pytest.mark.parametrize("call", [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: mx.nd.broadcast_add(a, b),
    lambda a, b: mx.nd.broadcast_sub(a, b),
])
def test_broadcast_mismatch_message(call):
    with pytest.raises(mx.base.ShapeError, match=r"broadcast.*\(2, 3\).*\(4,\)") as info:
        call(mx.nd.zeros((2, 3)), mx.nd.zeros((4,)))
    assert "\n" not in str(info.value).strip()


def test_reshape_to_a_different_size_message():
    with pytest.raises(mx.base.ShapeError, match=r"Reshape.*\(2, 3\).*6.*\(4, 2\).*8"):
        mx.nd.zeros((2, 3)).reshape((4, 2))


def test_concat_unequal_shapes_message():
    with pytest.raises(mx.base.ShapeError, match=r"(?i)concat.*\(2, 3\).*\(3, 4\)"):
        mx.nd.concat(mx.nd.zeros((2, 3)), mx.nd.zeros((3, 4)), dim=0)


@pytest.mark.parametrize("call", [
    lambda x: mx.nd.sum(x, axis=3), lambda x: mx.nd.sum(x, axis=-4), lambda x: mx.nd.transpose(x, axes=(0, 5, 1)),
])
def test_axis_out_of_range_message(call):
    with pytest.raises(mx.base.ShapeError, match=r"ax(is|es)=(3|-4|5) .*3 dimensions"):
        call(mx.nd.zeros((2, 3, 4)))


def test_inplace_shape_message():
    x = mx.nd.zeros((3,))
    with pytest.raises(mx.base.ShapeError, match=r"\(2, 3\).*\(3,\)"):
        x += mx.nd.zeros((2, 3))


# -- attribute messages -------------------------------------------------------------------------------------------
def test_unknown_attribute_lists_the_valid_ones():
    with pytest.raises(mx.base.OperatorAttributeError, match=r"'sum'.*'foo'.*axis, keepdims, exclude"):
        mx.nd.sum(mx.nd.zeros((3,)), foo=1)


def test_bad_enum_value_lists_the_choices():
    spec = parse_attr_spec("topk", "ret_typ", "enum(value|indices|mask|both) = indices")
    with pytest.raises(mx.base.OperatorAttributeError, match=r"'topk'.*'ret_typ'.*'value', 'indices', 'mask', 'both'"):
        spec.parse("topk", "bad")


def test_bad_enum_value_through_an_operator():
    with pytest.raises(mx.base.OperatorAttributeError, match=r"ret_typ.*'value'.*'both'.*'bad'"):
        mx.nd.topk(mx.nd.zeros((3,)), ret_typ="bad")


def test_missing_required_attribute_names_it():
    with pytest.raises(mx.base.OperatorAttributeError, match=r"'Cast'.*'dtype'.*missing"):
        mx.nd.Cast(mx.nd.zeros((3,)))


def test_bad_attribute_value_names_expected_kind():
    with pytest.raises(mx.base.OperatorAttributeError, match=r"'sum'.*'axis'.*tuple of ints.*'abc'"):
        mx.nd.sum(mx.nd.zeros((3,)), axis="abc")
    with pytest.raises(mx.base.OperatorAttributeError, match=r"'dtype'.*float32.*'complex'"):
        mx.nd.Cast(mx.nd.zeros((3,)), dtype="complex")


def test_too_many_positional_arguments():
    with pytest.raises(mx.base.OperatorAttributeError, match="positional"):
        mx.nd.Cast(mx.nd.zeros((3,)), "float32", 1, 2, 3)


def test_non_array_input_is_named():
    with pytest.raises(mx.base.OperatorAttributeError, match=r"'exp'.*'data'.*list"):
        mx.nd.exp([1.0, 2.0])


def test_unsupported_dtype_lists_supported():
    with pytest.raises(mx.base.DTypeError, match="float32"):
        mx.nd.array([1, 2], dtype="complex64")


def test_unknown_operator():
    with pytest.raises(mx.base.UnknownOperatorError, match="no_such_op"):
        mx.registry.get("no_such_op")
    with pytest.raises(AttributeError):
        mx.nd.no_such_op


# -- contexts and kernels ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda a, b: a + b, lambda a, b: b * a, lambda a, b: mx.nd.broadcast_add(a, b),
    lambda a, b: mx.nd.broadcast_like(a, b),
])
def test_inputs_on_different_contexts(toy, call):
    a = mx.nd.array([1.0, 2.0])
    b = mx.nd.array([3.0, 4.0], ctx=toy)
    both = r"operator '\w+'(?=.*cpu\(0\))(?=.*toy\(0\)).*as_in_context"
    with pytest.raises(mx.base.ContextMismatchError, match=both):
        call(a, b)


def test_two_devices_of_one_plugin_do_not_mix(toy):
    a = mx.nd.array([1.0], ctx=toy)
    b = mx.nd.array([1.0], ctx=mx.Context("toy", 1))
    with pytest.raises(mx.base.ContextMismatchError, match=r"toy\(0\).*toy\(1\)"):
        a + b


def test_cpu_devices_mix_like_mxnet():
    a, b = mx.nd.array([1.0], ctx=mx.cpu(0)), mx.nd.array([2.0], ctx=mx.cpu(1))
    assert (a + b).context == mx.cpu(0) and (b + a).context == mx.cpu(1)
    assert mx.nd.broadcast_mul(b, a).context == mx.cpu(1)


def test_missing_kernel_names_operator_context_and_dtype():
    with toy_backend.installed(keep=lambda op: op != "exp") as toy:
        x = mx.nd.array([1.0, 2.0], ctx=toy)
        with pytest.raises(mx.base.KernelNotFoundError, match=r"'exp'.*toy\(0\).*float32.*numpy"), \
                mx.fallback("error"):  # the default policy would run it on the CPU
            mx.nd.exp(x)


def test_kernel_exceptions_become_mxneterrors_naming_the_operator():
    def broken(data):
        raise ValueError("the device rejected this")

    with toy_backend.installed(extra={"exp": broken}) as toy:
        x = mx.nd.array([1.0, 2.0], ctx=toy)
        with pytest.raises(mx.base.MXNetError, match=r"'exp'.*\(2,\) float32.*the device rejected this"):
            mx.nd.exp(x)


def test_kernel_breaking_its_contract_is_reported():
    def wrong_dtype(data):
        return data.astype("float64")

    with toy_backend.installed(extra={"exp": wrong_dtype}) as toy:
        x = mx.nd.array([1.0, 2.0], ctx=toy)
        with pytest.raises(mx.base.MXNetError, match=r"'exp'.*toy.*contract.*float64.*float32"):
            mx.nd.exp(x)


def test_autograd_errors_are_mxneterrors():
    x = mx.nd.array([1.0])
    with pytest.raises(mx.base.AutogradError):
        x.backward()
    x.attach_grad()
    with mx.autograd.record():
        y = x * 2
    y.backward()
    with pytest.raises(mx.base.AutogradError, match="retain_graph"):
        y.backward()
    with pytest.raises(mx.base.AutogradError, match="retain_graph"):
        mx.autograd.grad(y, [x])


def test_errors_are_catchable_as_runtime_error_like_mxnet():
    with pytest.raises(RuntimeError):
        mx.nd.zeros((2, 3)).reshape((5,))
