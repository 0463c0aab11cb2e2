"""Rules of the `custom` family: `Custom` runs a Python CustomOp (mxplug.operator), composite-style."""

from __future__ import annotations

from . import composite


@composite("Custom")
def _custom(F, attrs, *data):
    # Attributes other than op_type are the CustomOpProp's keyword arguments (mx.nd.Custom passes them
    # through; a graph executor hands over the attributes it stored).
    from ..operator import invoke_custom

    kwargs = {k: v for k, v in attrs.items() if k != "op_type"}
    return invoke_custom(attrs["op_type"], list(data), kwargs)
