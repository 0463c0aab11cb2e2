"""The hooks a backend plugin implements: this module is the plugin author's reference.

A plugin is a module (or object) exposed through the ``mxplug`` entry-point group::

    # pyproject.toml of your distribution
    [project.entry-points.mxplug]
    mydevice = "mxplug_mydevice"

The module declares the core API it was written against, ``MXPLUG_API_VERSION = "1.0"`` (a plugin
whose major version differs from `mxplug.plugins.API_VERSION`, or whose minor is newer, is refused with
one line in `mxplug plugins`), and implements any of the hooks below with ``@mxplug.hookimpl``.
Each hook receives a ``register`` callback: plugins never touch a global. A plugin that fails to import or
whose hook raises is reported by `mxplug plugins` (with its traceback) and skipped; it never breaks
``import mxplug``. The built-in NumPy backend is a plugin registered through these same hooks.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("mxplug")
hookimpl = pluggy.HookimplMarker("mxplug")


@hookspec
def mxplug_register_backends(register):
    """Register device backends.

    Call ``register(backend)`` with an instance of a `mxplug.backend.Backend` subclass, once per device
    type the plugin serves. Register it even when the device is unusable: set ``backend.available = False``
    and ``backend.reason`` so users see why (e.g. "CuPy found no CUDA device").

    Example::

        @mxplug.hookimpl
        def mxplug_register_backends(register):
            register(MyBackend())
    """


@hookspec
def mxplug_register_kernels(register):
    """Register kernels: ``register(op, backend, fn, dtypes=None, priority=0)``.

    - ``op``: the operator's registry name (aliases are resolved).
    - ``backend``: the backend name the kernel runs on ("numpy", "opencl", or your own).
    - ``fn(*inputs, **attrs)``: receives the backend's native arrays in the registry's input order (None
      for an absent optional input) and the parsed attributes as keywords; returns one native array or a
      tuple of them, with the shapes and dtypes the operator's inference gives (checked by the core).
    - ``dtypes``: the input dtypes (by name) it handles, or None for all.
    - ``priority``: the highest-priority kernel for (op, backend, dtype) wins; a plugin overrides another's
      kernel by registering with a higher priority.

    Example::

        @mxplug.hookimpl
        def mxplug_register_kernels(register):
            register("relu", "mydevice", my_relu, dtypes=("float32",))
    """


@hookspec
def mxplug_register_operators(register):
    """Declare new operators: ``register(schema, infer=None, gradient=None, composite=None)``.

    ``schema`` is a `mxplug.registry.OpSchema` (or a dict in the registry's TOML form plus ``name``).
    The operator then appears in ``mx.nd`` and ``mxplug ops`` like a built-in one.
    """


@hookspec
def mxplug_register_graph_passes(register):
    """Register graph passes for compiled executors: ``register(backend, fn, priority=0)``.

    ``fn(plan)`` receives a `mxplug.executor.plan.Plan` after tracing and dead-step elimination, for
    executors bound on a context of ``backend`` (a backend name); it may rewrite ``plan.forward.steps`` and
    ``plan.backward.steps`` (fuse elementwise chains into one generated kernel, write into planned buffers)
    and returns the plan, or None when it changed it in place. Passes run highest priority first.
    """
