"""``python -m mxplug``: the same command line as the ``mxplug`` console script."""

from .cli import main

raise SystemExit(main())
