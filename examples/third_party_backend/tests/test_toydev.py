"""The plugin's own tests: the mxplug conformance kit over every kernel it registers."""

import mxplug_toydev

import mxplug
from mxplug.testing.conformance import check_backend


def test_conformance():
    if "toydev" not in mxplug.plugins.manager().plugins:  # not pip-installed: register it in-process
        mxplug.plugins.register_plugin(mxplug_toydev, "toydev")
    report = check_backend("toydev", dtypes=("float32", "float64"))
    assert report.passed, report.table()
