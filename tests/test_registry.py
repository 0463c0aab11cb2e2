"""The operator registry: the real one is complete and consistent, malformed entries are rejected with
RegistryError, and attribute values are parsed as MXNet accepts them (or rejected with a clear message)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from mxplug_numpy.kernels import FAMILIES as KERNEL_FAMILIES
from mxplug_numpy.kernels import make_all_kernels

import mxplug as mx
from mxplug import ops, registry
from mxplug.base import OperatorAttributeError, RegistryError


def _is_composite(schema) -> bool:
    return schema.composite or ops.rules(schema.name).composite is not None


def _report(problems: list[str]) -> str:
    return f"{len(problems)} registry entries are incomplete:\n  " + "\n  ".join(problems)


# -- the real registry ----------------------------------------------------------------------------------
def test_real_registry_loads_and_matches_the_families():
    schemas, aliases = registry.load_registry()
    assert schemas and set(schemas) == set(registry.all_ops())
    stems = {p.stem for p in registry.registry_dir().glob("*.toml")}
    assert stems == set(ops.FAMILIES) == set(KERNEL_FAMILIES)
    assert {s.family for s in schemas.values()} <= stems
    for alias, name in aliases.items():
        assert registry.get(alias) is registry.get(name)


def test_every_operator_has_inference_and_a_gradient_policy():
    problems = []
    for name, schema in sorted(registry.all_ops().items()):
        rules = ops.rules(name)
        if schema.composite and rules.composite is None:
            problems.append(f"{name}: declared composite in {schema.family}.toml but no @composite body")
        if _is_composite(schema):
            continue  # composites run as other operators: no inference or gradient of their own
        if rules.infer is None:
            problems.append(f"{name}: no @infer rule in mxplug/ops/{schema.family}.py")
        # Creation operators (no inputs) have nothing to differentiate and need no gradient.
        has_diff_inputs = any(i not in schema.nondiff_inputs for i in schema.inputs)
        if schema.differentiable and has_diff_inputs and rules.gradient is None:
            problems.append(f"{name}: no @gradient (or `differentiable = false` in {schema.family}.toml)")
        if not schema.differentiable and rules.gradient is not None:
            problems.append(f"{name}: has a @gradient but is declared `differentiable = false`")
    assert not problems, _report(problems)


def test_every_rule_belongs_to_a_registry_operator():
    schemas = registry.all_ops()
    orphans = sorted(set(ops.all_rules()) - set(schemas))
    assert not orphans, f"rules registered for names that are not canonical registry operators: {orphans}"


def test_every_operator_has_a_numpy_kernel_or_is_composite():
    kernels = make_all_kernels(np)
    schemas = registry.all_ops()
    missing = [f"{n}: no kernel in plugins/numpy/mxplug_numpy/kernels/{s.family}.py"
               for n, s in sorted(schemas.items()) if not _is_composite(s) and n not in kernels]
    assert not missing, _report(missing)
    orphans = sorted(set(kernels) - set(schemas))
    assert not orphans, f"numpy kernels for names that are not canonical registry operators: {orphans}"


def test_registry_dir_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("MXPLUG_REGISTRY_DIR", str(tmp_path))
    assert registry.registry_dir() == tmp_path
    with pytest.raises(RegistryError, match="no operator registry found in"):
        registry.load_registry()


# -- malformed registries -------------------------------------------------------------------------------
def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text))
    return directory


GOOD = """
[foo]
aliases = ["foo_alias"]
inputs = ["data"]
doc = "A fine operator."
"""


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param({"a.toml": GOOD.replace('doc =', 'gradient = "x"\ndoc =')},
                     "registry entry 'foo': unknown keys ['gradient']", id="unknown-key"),
        pytest.param({"a.toml": GOOD.replace('doc =', 'attrs = { axis = "integer" }\ndoc =')},
                     "registry entry 'foo': attribute 'axis' has a malformed spec 'integer'", id="bad-kind"),
        pytest.param({"a.toml": GOOD.replace('doc =', 'attrs = { axis = "int = one" }\ndoc =')},
                     "registry entry 'foo': bad default for 'axis': operator 'foo': attribute 'axis' expects an "
                     "int, got 'one'", id="bad-default"),
        pytest.param({"a.toml": GOOD.replace('doc =', 'attrs = { mode = "enum = a" }\ndoc =')},
                     "registry entry 'foo': enum attribute 'mode' lists no choices", id="enum-without-choices"),
        pytest.param({"a.toml": GOOD.replace('doc =', 'attrs = { axis = "int(1|2)" }\ndoc =')},
                     "registry entry 'foo': only enum takes choices, 'axis' is int", id="choices-on-int"),
        pytest.param({"a.toml": GOOD.replace('doc =', 'attrs = { mode = "enum(a|b) = c" }\ndoc =')},
                     "bad default for 'mode': operator 'foo': attribute 'mode' expects one of 'a', 'b', got 'c'",
                     id="enum-default-not-a-choice"),
        pytest.param({"a.toml": GOOD.replace('doc =', 'attrs = { axis = 1 }\ndoc =')},
                     "registry entry 'foo': attribute 'axis' spec must be a string", id="spec-not-string"),
        pytest.param({"a.toml": GOOD.replace('doc =', 'attrs = { data = "int" }\ndoc =')},
                     "registry entry 'foo': 'data' is both an input and an attribute", id="attr-shadows-input"),
        pytest.param({"a.toml": GOOD, "b.toml": GOOD.replace("foo_alias", "other")},
                     "operator 'foo' is declared twice (b.toml and a.toml)", id="duplicate-across-files"),
        pytest.param({"a.toml": GOOD, "b.toml": "[foo_alias]\ninputs = []\ndoc = 'x'\n"},
                     "alias 'foo_alias' of 'foo' clashes with another operator or alias", id="alias-clash-op"),
        pytest.param({"a.toml": GOOD, "b.toml": GOOD.replace("[foo]", "[bar]")},
                     "alias 'foo_alias' of ", id="alias-clash-alias"),
        pytest.param({"a.toml": GOOD.replace('doc = "A fine operator."', "")},
                     "registry entry 'foo': a doc string is required", id="missing-doc"),
        pytest.param({"a.toml": GOOD.replace('"A fine operator."', '"   "')},
                     "registry entry 'foo': a doc string is required", id="blank-doc"),
        pytest.param({"a.toml": GOOD.replace('["data"]', '["*data", "axis"]')},
                     "registry entry 'foo': variadic input 'data' must come last", id="variadic-not-last"),
        pytest.param({"a.toml": GOOD.replace('["data"]', '["data", "data?"]')},
                     "registry entry 'foo': duplicate input names ['data', 'data']", id="duplicate-input"),
        pytest.param({"a.toml": GOOD.replace('["data"]', '["1st"]')},
                     "registry entry 'foo': input name '1st' is not an identifier", id="bad-input-name"),
        pytest.param({"a.toml": GOOD.replace('doc =', 'nondiff_inputs = ["index"]\ndoc =')},
                     "registry entry 'foo': nondiff_inputs ['index'] unknown", id="unknown-nondiff"),
        pytest.param({"a.toml": GOOD.replace('doc =', 'outputs = []\ndoc =')},
                     "registry entry 'foo': outputs must be a non-empty list of names", id="no-outputs"),
        pytest.param({"a.toml": GOOD.replace('doc =', 'aux = ["state"]\ndoc =')},
                     "registry entry 'foo': aux ['state'] are not inputs", id="unknown-aux"),
        pytest.param({"a.toml": "foo = 1\n"}, "registry entry 'foo' in a.toml must be a table", id="not-a-table"),
        pytest.param({"a.toml": "[foo\n"}, "a.toml: ", id="toml-syntax"),
    ],
)
def test_malformed_registry_is_rejected(tmp_path, files, message):
    _write(tmp_path, files)
    with pytest.raises(RegistryError) as err:
        registry.load_registry(tmp_path)
    assert message in str(err.value)


def test_empty_registry_is_rejected(tmp_path):
    with pytest.raises(RegistryError, match="no operator registry found"):
        registry.load_registry(tmp_path)


def test_well_formed_registry_entry(tmp_path):
    text = GOOD.replace('["data"]', '["data", "bias?", "*rest"]').replace(
        'doc =', 'nondiff_inputs = ["bias"]\noutputs = ["out", "mask"]\ninternal = true\ndoc =')
    schemas, aliases = registry.load_registry(_write(tmp_path, {"fam.toml": text}))
    s = schemas["foo"]
    assert (s.family, s.inputs, s.variadic, s.optional_inputs) == ("fam", ("data", "bias", "rest"), "rest",
                                                                 frozenset({"bias"}))
    assert (s.outputs, s.nondiff_inputs, s.internal, s.differentiable, s.composite) == (
        ("out", "mask"), frozenset({"bias"}), True, True, False)
    assert aliases == {"foo_alias": "foo"}
    assert (s.aux_inputs, s.train_aware) == ((), False)


def test_aux_inputs_are_nondifferentiable_and_train_aware_is_read(tmp_path):
    text = GOOD.replace('["data"]', '["data", "moving_mean"]').replace(
        'doc =', 'aux = ["moving_mean"]\ntrain_aware = true\ndoc =')
    s = registry.load_registry(_write(tmp_path, {"fam.toml": text}))[0]["foo"]
    assert (s.aux_inputs, s.nondiff_inputs, s.train_aware) == (("moving_mean",), frozenset({"moving_mean"}), True)


# -- attribute parsing ----------------------------------------------------------------------------------
CONV = """
[Conv]
inputs = ["data", "weight", "bias?"]
doc = "A convolution-like signature for attribute tests."

[Conv.attrs]
kernel = "shape"
num_filter = "int"
stride = "shape = (1, 1)"
no_bias = "bool = False"
axis = "int = -1"
layout = "enum(NCHW|NHWC)? = None"
mode = "enum(clip|wrap|raise) = 'clip'"
eps = "float = 1e-5"
scales = "floats? = None"
dtype = "dtype = float32"
label = "str = ''"
"""


@pytest.fixture(scope="module")
def conv(tmp_path_factory):
    directory = _write(tmp_path_factory.mktemp("registry"), {"nn.toml": CONV})
    return registry.load_registry(directory)[0]["Conv"]


def _parse(conv, **attrs):
    return conv.parse_attrs({"kernel": 3, "num_filter": 8, **attrs})


def test_defaults_are_filled_and_parsed(conv):
    assert _parse(conv) == {
        "kernel": (3,), "num_filter": 8, "stride": (1, 1), "no_bias": False, "axis": -1, "layout": None,
        "mode": "clip", "eps": 1e-5, "scales": None, "dtype": np.dtype("float32"), "label": "",
    }


@pytest.mark.parametrize(
    ("attr", "value", "expected"),
    [
        ("kernel", "(3, 3)", (3, 3)),
        ("kernel", "(3,3)", (3, 3)),
        ("kernel", (3, 3), (3, 3)),
        ("kernel", [2, 4], (2, 4)),
        ("kernel", 3, (3,)),
        ("kernel", "3", (3,)),
        ("kernel", np.int64(5), (5,)),
        ("kernel", "()", ()),
        ("no_bias", "True", True),
        ("no_bias", "False", False),
        ("no_bias", "true", True),
        ("no_bias", "1", True),
        ("no_bias", 0, False),
        ("no_bias", np.bool_(True), True),
        ("axis", -1, -1),
        ("axis", "-1", -1),
        ("axis", 2.0, 2),
        ("axis", np.int32(1), 1),
        ("layout", "NHWC", "NHWC"),
        ("layout", None, None),
        ("layout", "None", None),
        ("mode", "wrap", "wrap"),
        ("eps", "0.5", 0.5),
        ("eps", 2, 2.0),
        ("scales", "(0.5, 2)", (0.5, 2.0)),
        ("scales", 1.5, (1.5,)),
        ("dtype", "float16", np.dtype("float16")),
        ("dtype", np.int32, np.dtype("int32")),
        ("dtype", np.dtype("uint8"), np.dtype("uint8")),
        ("label", "conv1", "conv1"),
    ],
)
def test_attribute_accepts_mxnet_forms(conv, attr, value, expected):
    got = _parse(conv, **{attr: value})[attr]
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"kernal": 3}, "operator 'Conv' has no attribute 'kernal' (its attributes: kernel, num_filter, stride, "
                        "no_bias, axis, layout, mode, eps, scales, dtype, label)"),
        ({"mode": "wrapped"}, "operator 'Conv': attribute 'mode' expects one of 'clip', 'wrap', 'raise', "
                              "got 'wrapped'"),
        ({"layout": "NCWH"}, "operator 'Conv': attribute 'layout' expects one of 'NCHW', 'NHWC', got 'NCWH'"),
        ({"kernel": "(3, 3.5)"}, "operator 'Conv': attribute 'kernel' expects a tuple of ints such as (3, 3), "
                                 "got '(3, 3.5)'"),
        ({"kernel": "three"}, "attribute 'kernel' expects a tuple of ints"),
        ({"kernel": None}, "operator 'Conv': attribute 'kernel' expects a value (None is not allowed), got None"),
        ({"no_bias": "yes"}, "operator 'Conv': attribute 'no_bias' expects a bool, got 'yes'"),
        ({"no_bias": 2}, "attribute 'no_bias' expects a bool, got 2"),
        ({"axis": 1.5}, "operator 'Conv': attribute 'axis' expects an int, got 1.5"),
        ({"axis": True}, "attribute 'axis' expects an int, got True"),
        ({"eps": "small"}, "attribute 'eps' expects a float, got 'small'"),
        ({"scales": "(1, 'a')"}, "attribute 'scales' expects a tuple of floats or None"),
        ({"dtype": "complex64"}, "operator 'Conv': attribute 'dtype' expects a dtype, one of float16, float32, "
                                 "float64, uint8, int8, int32, int64, bool, got 'complex64'"),
        ({"dtype": "nonsense"}, "attribute 'dtype' expects a dtype"),
        ({"label": 3}, "attribute 'label' expects a string, got 3"),
    ],
)
def test_attribute_rejects_bad_values(conv, attrs, message):
    with pytest.raises(OperatorAttributeError) as err:
        _parse(conv, **attrs)
    assert message in str(err.value)


def test_required_attribute_missing(conv):
    with pytest.raises(OperatorAttributeError,
                       match=r"operator 'Conv': required attribute 'num_filter' \(int\) is missing"):
        conv.parse_attrs({"kernel": 3})


def test_attribute_describe(conv):
    assert [s.describe() for s in conv.attrs.values()] == [
        "shape", "int", "shape", "bool", "int", "enum(NCHW|NHWC)?", "enum(clip|wrap|raise)", "float",
        "floats?", "dtype", "str",
    ]
    assert conv.attrs["kernel"].required and not conv.attrs["stride"].required


def test_real_operator_accepts_string_attributes():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = mx.nd.sum(mx.nd.array(x), axis="(1,)", keepdims="True")
    np.testing.assert_array_equal(got.asnumpy(), x.sum(axis=1, keepdims=True))
    with pytest.raises(OperatorAttributeError, match="operator 'sum' has no attribute 'axes'"):
        mx.nd.sum(mx.nd.array(x), axes=1)
