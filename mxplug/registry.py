"""Operator signatures: `registry/*.toml` → frozen `OpSchema` objects, and attribute parsing.

One TOML table per operator (MXNet's name), e.g.::

    [sum]
    aliases = ["sum_axis"]
    inputs = ["data"]
    attrs = { axis = "shape? = None", keepdims = "bool = False", exclude = "bool = False" }
    doc = "Sum of array elements over the given axes."

Inputs: a name; ``name?`` is optional (may be None); ``*name`` is variadic (takes the rest).
Attribute kinds: int, float, bool, str, dtype, shape (tuple of ints; an int is accepted as a 1-tuple),
optshape (a shape whose elements may be None, as `slice`'s begin/end/step), floats (tuple of floats),
enum(a|b|c). A ``?`` after the kind admits None; ``= value`` gives the default
(an attribute with no default is required). Values are accepted as MXNet accepts them: native Python
values or their string forms (``kernel='(3, 3)'``, ``keepdims='True'``).
Other keys: ``outputs`` (names, default ["output"]), ``nondiff_inputs``, ``differentiable`` (false for ops
with no gradient), ``composite`` (true: implemented in Python from other operators, no kernel needed),
``internal`` (flagged as such in the docs and `mxplug ops`), ``aux`` (inputs that are auxiliary states, as
BatchNorm's moving_mean: not differentiable, listed by Symbol as auxiliary states, and updated in place by the
kernel), ``train_aware`` (true: the operator behaves differently in training — Dropout, BatchNorm — and its
kernel, inference and gradient receive ``is_train`` among the attributes, `autograd.is_training()` imperatively,
the executor's ``forward(is_train=)`` in graphs) and ``doc`` (required). Names starting with `_` live in
mx.nd._internal.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

from .base import OperatorAttributeError, RegistryError, UnknownOperatorError

__all__ = ["AttrSpec", "OpSchema", "get", "all_ops", "registry_dir", "parse_attr_spec", "load_registry"]

_REQUIRED = object()  # sentinel default of a required attribute

_ENTRY_KEYS = {
    "aliases", "inputs", "attrs", "outputs", "nondiff_inputs", "differentiable", "composite", "internal",
    "aux", "train_aware", "doc",
}
_KINDS = {"int", "float", "bool", "str", "dtype", "shape", "optshape", "floats", "enum"}
_SPEC_RE = re.compile(r"^\s*(?P<kind>[a-z]+)(?:\((?P<choices>[^)]*)\))?(?P<opt>\?)?\s*(?:=\s*(?P<default>.*))?$")

# dtypes MXNet 1.9 names (plus bool); the keys are what users may pass as strings.
DTYPES = {
    name: np.dtype(name)
    for name in ("float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool")
}


@dataclass(frozen=True)
class AttrSpec:
    """One typed attribute of an operator."""

    name: str
    kind: str
    optional: bool = False  # None is admitted
    default: Any = _REQUIRED
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def describe(self) -> str:
        kind = f"enum({'|'.join(self.choices)})" if self.kind == "enum" else self.kind
        return kind + ("?" if self.optional else "")

    def parse(self, op: str, value: Any) -> Any:
        """Convert a user value to this attribute's canonical Python value, or raise with a clear message."""
        if value is None or (isinstance(value, str) and value.strip() == "None"):
            if self.optional:
                return None
            self._bad(op, value, "a value (None is not allowed)")
        try:
            return _PARSERS[self.kind](self, value)
        except (ValueError, TypeError, SyntaxError):
            self._bad(op, value, self._expected())

    def _expected(self) -> str:
        if self.kind == "enum":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "dtype":
            return "a dtype, one of " + ", ".join(DTYPES)
        return {
            "int": "an int", "float": "a float", "bool": "a bool", "str": "a string",
            "shape": "a tuple of ints such as (3, 3)", "optshape": "a tuple of ints or None such as (None, 2)",
            "floats": "a tuple of floats",
        }[self.kind] + (" or None" if self.optional else "")

    def _bad(self, op: str, value: Any, expected: str) -> None:
        raise OperatorAttributeError(
            f"operator '{op}': attribute '{self.name}' expects {expected}, got {value!r}"
        )


def _literal(value: Any) -> Any:
    return ast.literal_eval(value.strip()) if isinstance(value, str) else value


def _parse_int(spec: AttrSpec, v: Any) -> int:
    v = _literal(v)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return int(v)
        raise TypeError
    return int(v)


def _parse_float(spec: AttrSpec, v: Any) -> float:
    v = _literal(v)
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError
    return float(v)


def _parse_bool(spec: AttrSpec, v: Any) -> bool:
    if isinstance(v, str):
        low = v.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise ValueError
    if isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, np.integer)) and v in (0, 1)):
        return bool(v)
    raise TypeError


def _parse_str(spec: AttrSpec, v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError
    return v


def _parse_enum(spec: AttrSpec, v: Any) -> str:
    if not isinstance(v, str) or v not in spec.choices:
        raise ValueError
    return v


def _parse_dtype(spec: AttrSpec, v: Any) -> np.dtype:
    dt = np.dtype(v)
    if dt.name not in DTYPES:
        raise TypeError
    return dt


def _parse_shape(spec: AttrSpec, v: Any) -> tuple[int, ...]:
    v = _literal(v)
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),)
    if isinstance(v, (list, tuple)):
        out = []
        for x in v:
            if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
                raise TypeError
            out.append(int(x))
        return tuple(out)
    raise TypeError


def _parse_optshape(spec: AttrSpec, v: Any) -> tuple[int | None, ...]:
    v = _literal(v)
    if isinstance(v, (list, tuple)):
        return tuple(None if x is None else _parse_shape(spec, x)[0] for x in v)
    return _parse_shape(spec, v)


def _parse_floats(spec: AttrSpec, v: Any) -> tuple[float, ...]:
    v = _literal(v)
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return (float(v),)
    if isinstance(v, (list, tuple)):
        return tuple(_parse_float(spec, x) for x in v)
    raise TypeError


_PARSERS = {
    "int": _parse_int, "float": _parse_float, "bool": _parse_bool, "str": _parse_str, "enum": _parse_enum,
    "dtype": _parse_dtype, "shape": _parse_shape, "optshape": _parse_optshape, "floats": _parse_floats,
}


def parse_attr_spec(op: str, name: str, text: str) -> AttrSpec:
    """Parse one attribute declaration such as ``"enum(clip|wrap|raise) = clip"``."""
    m = _SPEC_RE.match(text)
    if not m or m["kind"] not in _KINDS:
        raise RegistryError(f"registry entry '{op}': attribute '{name}' has a malformed spec {text!r}")
    kind = m["kind"]
    choices: tuple[str, ...] = ()
    if kind == "enum":
        if not m["choices"]:
            raise RegistryError(f"registry entry '{op}': enum attribute '{name}' lists no choices")
        choices = tuple(c.strip() for c in m["choices"].split("|"))
    elif m["choices"] is not None:
        raise RegistryError(f"registry entry '{op}': only enum takes choices, '{name}' is {kind}")
    spec = AttrSpec(name, kind, bool(m["opt"]), _REQUIRED, choices)
    if m["default"] is not None:
        raw = m["default"].strip()
        if kind in ("str", "enum") and len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            raw = raw[1:-1]
        try:
            default = spec.parse(op, raw)
        except OperatorAttributeError as e:
            raise RegistryError(f"registry entry '{op}': bad default for '{name}': {e}") from None
        spec = AttrSpec(name, kind, spec.optional, default, choices)
    return spec


@dataclass(frozen=True)
class OpSchema:
    """The declared signature of one operator."""

    name: str
    family: str
    inputs: tuple[str, ...]
    optional_inputs: frozenset[str]
    variadic: str | None
    attrs: dict[str, AttrSpec]
    outputs: tuple[str, ...] = ("output",)
    aliases: tuple[str, ...] = ()
    nondiff_inputs: frozenset[str] = frozenset()
    differentiable: bool = True
    composite: bool = False
    internal: bool = False
    aux_inputs: tuple[str, ...] = ()
    train_aware: bool = False
    doc: str = ""
    _attr_cache: dict = field(default_factory=dict, compare=False, repr=False)

    def parse_attrs(self, kwargs: dict[str, Any]) -> Mapping[str, Any]:
        """Validate user attributes and fill defaults; the result is what kernels receive as keywords.

        The result is read-only and memoised per distinct set of (hashable) values, so a call site that
        repeats the same attributes — the common case in a training loop — parses them once.
        """
        try:
            key = tuple((k, type(v), v) for k, v in kwargs.items())
            cached = self._attr_cache.get(key)
        except TypeError:  # an unhashable value (a list): parse every time
            return MappingProxyType(self._parse_attrs(kwargs))
        if cached is None:
            cached = MappingProxyType(self._parse_attrs(kwargs))
            if len(self._attr_cache) < 256:  # bounded: attribute values are usually a handful per op
                self._attr_cache[key] = cached
        return cached

    def _parse_attrs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in kwargs.items():
            spec = self.attrs.get(key)
            if spec is None:
                known = ", ".join(self.attrs) or "none"
                raise OperatorAttributeError(
                    f"operator '{self.name}' has no attribute '{key}' (its attributes: {known})"
                )
            out[key] = spec.parse(self.name, value)
        for key, spec in self.attrs.items():
            if key not in out:
                if spec.required:
                    raise OperatorAttributeError(
                        f"operator '{self.name}': required attribute '{key}' ({spec.describe()}) is missing"
                    )
                out[key] = spec.default
        return out


def registry_dir() -> Path:
    """Where the TOML files are: inside the installed package (wheel), else the source tree's `registry/`."""
    env = os.environ.get("MXPLUG_REGISTRY_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    packaged = here / "_registry"
    return packaged if packaged.is_dir() else here.parent / "registry"


def _parse_inputs(op: str, raw: list[str]) -> tuple[tuple[str, ...], frozenset[str], str | None]:
    names, optional, variadic = [], set(), None
    for i, item in enumerate(raw):
        if not isinstance(item, str) or not item:
            raise RegistryError(f"registry entry '{op}': input #{i} must be a non-empty string")
        name = item
        if name.startswith("*"):
            name = name[1:]
            if i != len(raw) - 1:
                raise RegistryError(f"registry entry '{op}': variadic input '{name}' must come last")
            variadic = name
        if name.endswith("?"):
            name = name[:-1]
            optional.add(name)
        if not name.isidentifier():
            raise RegistryError(f"registry entry '{op}': input name {item!r} is not an identifier")
        names.append(name)
    if len(set(names)) != len(names):
        raise RegistryError(f"registry entry '{op}': duplicate input names {names}")
    return tuple(names), frozenset(optional), variadic


def _schema_from_entry(op: str, family: str, entry: dict) -> OpSchema:
    if not isinstance(entry, dict):
        raise RegistryError(f"registry entry '{op}' in {family}.toml must be a table")
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise RegistryError(f"registry entry '{op}': unknown keys {sorted(unknown)}")
    inputs, optional, variadic = _parse_inputs(op, entry.get("inputs", []))
    attrs_raw = entry.get("attrs", {})
    if not isinstance(attrs_raw, dict):
        raise RegistryError(f"registry entry '{op}': attrs must be a table")
    attrs = {}
    for name, text in attrs_raw.items():
        if not isinstance(text, str):
            raise RegistryError(f"registry entry '{op}': attribute '{name}' spec must be a string")
        if name in inputs:
            raise RegistryError(f"registry entry '{op}': '{name}' is both an input and an attribute")
        attrs[name] = parse_attr_spec(op, name, text)
    aux = tuple(entry.get("aux", []))
    if not set(aux) <= set(inputs):
        raise RegistryError(f"registry entry '{op}': aux {sorted(set(aux) - set(inputs))} are not inputs")
    nondiff = frozenset(entry.get("nondiff_inputs", [])) | frozenset(aux)
    if not nondiff <= set(inputs):
        raise RegistryError(f"registry entry '{op}': nondiff_inputs {sorted(nondiff - set(inputs))} unknown")
    outputs = tuple(entry.get("outputs", ["output"]))
    if not outputs or not all(isinstance(o, str) and o for o in outputs):
        raise RegistryError(f"registry entry '{op}': outputs must be a non-empty list of names")
    doc = entry.get("doc", "")
    if not isinstance(doc, str) or not doc.strip():
        raise RegistryError(f"registry entry '{op}': a doc string is required")
    return OpSchema(
        name=op, family=family, inputs=inputs, optional_inputs=optional, variadic=variadic, attrs=attrs,
        outputs=outputs, aliases=tuple(entry.get("aliases", [])), nondiff_inputs=nondiff,
        differentiable=bool(entry.get("differentiable", True)), composite=bool(entry.get("composite", False)),
        internal=bool(entry.get("internal", False)), aux_inputs=aux,
        train_aware=bool(entry.get("train_aware", False)), doc=doc.strip(),
    )


def load_registry(directory: Path | None = None) -> tuple[dict[str, OpSchema], dict[str, str]]:
    """Read every `*.toml` in the registry directory: (name → schema, alias → name). Raises RegistryError."""
    directory = directory or registry_dir()
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise RegistryError(f"no operator registry found in {directory}")
    schemas: dict[str, OpSchema] = {}
    aliases: dict[str, str] = {}
    for path in files:
        with open(path, "rb") as f:
            try:
                table = tomllib.load(f)
            except tomllib.TOMLDecodeError as e:
                raise RegistryError(f"{path.name}: {e}") from None
        for op, entry in table.items():
            if op in schemas or op in aliases:
                raise RegistryError(f"operator '{op}' is declared twice ({path.name} and {_where(schemas, op)})")
            schemas[op] = _schema_from_entry(op, path.stem, entry)
    for op, schema in schemas.items():
        for alias in schema.aliases:
            if alias in schemas or alias in aliases:
                raise RegistryError(f"alias '{alias}' of '{op}' clashes with another operator or alias")
            aliases[alias] = op
    return schemas, aliases


def _where(schemas: dict[str, OpSchema], op: str) -> str:
    s = schemas.get(op)
    return f"{s.family}.toml" if s else "an alias"


_SCHEMAS: dict[str, OpSchema] = {}
_ALIASES: dict[str, str] = {}


def _ensure_loaded() -> None:
    if not _SCHEMAS:
        schemas, aliases = load_registry()
        _SCHEMAS.update(schemas)
        _ALIASES.update(aliases)


def add_schema(schema: OpSchema) -> None:
    """Register an operator declared at run time (custom operators, plugin-shipped operators)."""
    _ensure_loaded()
    for name in (schema.name, *schema.aliases):
        if name in _SCHEMAS or name in _ALIASES:
            raise RegistryError(f"operator '{name}' is already registered")
    _SCHEMAS[schema.name] = schema
    for alias in schema.aliases:
        _ALIASES[alias] = schema.name


def remove_schema(name: str) -> None:
    """Forget a run-time operator (and its aliases) so its owner can declare it again."""
    schema = _SCHEMAS.pop(name, None)
    if schema is not None:
        for alias in schema.aliases:
            _ALIASES.pop(alias, None)


def get(name: str) -> OpSchema:
    """The schema of an operator by MXNet name or alias."""
    _ensure_loaded()
    schema = _SCHEMAS.get(name) or _SCHEMAS.get(_ALIASES.get(name, ""))
    if schema is None:
        raise UnknownOperatorError(f"no operator named '{name}' is registered")
    return schema


def all_ops() -> dict[str, OpSchema]:
    """Every registered operator by canonical name."""
    _ensure_loaded()
    return dict(_SCHEMAS)


def aliases() -> dict[str, str]:
    _ensure_loaded()
    return dict(_ALIASES)
