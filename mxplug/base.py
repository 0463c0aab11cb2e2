"""The error hierarchy (MXNet's `mx.base.MXNetError` and specific subclasses).

Every error mxplug raises for bad input derives from `MXNetError`; the subclasses also derive from the
matching built-in so `except ValueError` keeps working for code written against NumPy.
"""

from __future__ import annotations

__all__ = [
    "MXNetError",
    "ShapeError",
    "DTypeError",
    "IndexingError",
    "OperatorAttributeError",
    "UnknownOperatorError",
    "KernelNotFoundError",
    "BackendUnavailableError",
    "ContextMismatchError",
    "AutogradError",
    "PluginError",
    "RegistryError",
    "FileFormatError",
]


class MXNetError(RuntimeError):
    """Base of every error mxplug raises (MXNet's name, so `except mx.base.MXNetError` keeps working).

    A RuntimeError, as MXNet's is, so `except RuntimeError` written against MXNet still catches it.
    """


class ShapeError(MXNetError, ValueError):
    """Shapes that do not fit the operator (broadcasting, dot, reshape, concat, axes out of range)."""


class DTypeError(MXNetError, TypeError):
    """A dtype the operator or backend does not accept, or inputs whose dtypes disagree."""


class IndexingError(MXNetError, IndexError, ValueError):
    """A bad indexing key or index: out of bounds, too many indices, an unsupported key type, a zero step.

    An IndexError, as NumPy raises for these, and a ValueError, as MXNet raises for some of them.
    """


class OperatorAttributeError(MXNetError, ValueError):
    """An unknown attribute, a missing required one, or a value of the wrong kind."""


class UnknownOperatorError(MXNetError, AttributeError):
    """No operator of that name is registered."""


class KernelNotFoundError(MXNetError, NotImplementedError):
    """No installed backend has a kernel for (operator, context, dtype)."""


class BackendUnavailableError(MXNetError, RuntimeError):
    """The context's backend is not installed, failed to load, or has no such device."""


class ContextMismatchError(MXNetError, ValueError):
    """An operator got inputs that live on different contexts."""


class AutogradError(MXNetError, RuntimeError):
    """Misuse of autograd: backward on an unrecorded array, a freed graph, a bad head gradient."""


class PluginError(MXNetError, RuntimeError):
    """A plugin that failed to import, raised in a hook, or needs another core API version."""


class RegistryError(MXNetError, ValueError):
    """A malformed, duplicate or inconsistent operator registry entry."""


class FileFormatError(MXNetError, ValueError):
    """A malformed, truncated or hostile model/array file."""
