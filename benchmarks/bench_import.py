"""Start-up cost, each sample in a fresh interpreter (asv's timeraw_).

`import mxplug` builds `mx.nd.*` from the registry but loads no plugin; the first array loads them
(entry points, kernel tables). `import numpy` is the floor under both.
"""

from __future__ import annotations


def timeraw_import_numpy() -> str:
    return "import numpy"


def timeraw_import_mxplug() -> str:
    return "import mxplug"


def timeraw_import_and_first_array() -> str:
    return "import mxplug as mx\nmx.nd.ones((1,)).asnumpy()"


for _bench in (timeraw_import_numpy, timeraw_import_mxplug, timeraw_import_and_first_array):
    _bench.repeat = (5, 10, 10.0)
