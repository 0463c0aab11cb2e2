"""The wheels work on their own: built from this tree, installed into a fresh venv, used outside the tree.

Catches what an editable install hides: a registry that is not shipped inside the package, a module left out
of the wheel, a missing dependency or entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
OURS = {"mxplug", "mxplug-numpy"}

CHECK = """
import json, sys
import numpy as np
import mxplug as mx
from mxplug import registry

x = np.arange(6, dtype=np.float32).reshape(2, 3)
y = (mx.nd.exp(mx.nd.array(x)) * 2).sum(axis=1)
print(json.dumps({
    "mxplug": mx.__file__,
    "registry": str(registry.registry_dir()),
    "registry_files": sorted(p.name for p in registry.registry_dir().glob("*.toml")),
    "ops": len(registry.all_ops()),
    "result": y.asnumpy().tolist(),
}))
"""


def _clean_env() -> dict[str, str]:
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("MXPLUG_")}


def _run(cmd: list, cwd: Path, timeout: int = 300) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_clean_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _third_party_requirements(wheels: list[Path]) -> list[str]:
    """The wheels' own runtime dependencies, minus our two distributions (those come from the wheels)."""
    reqs = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            lines = zf.read(meta).decode().splitlines()
        for line in lines:
            if line.startswith("Requires-Dist:"):
                req = Requirement(line.split(":", 1)[1].strip())
                if req.name not in OURS and (req.marker is None or req.marker.evaluate({"extra": ""})):
                    reqs.append(str(req))
    return sorted(set(reqs))


@pytest.mark.slow
def test_wheels_install_and_run_outside_the_source_tree(tmp_path):
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, ".", "./plugins/numpy"], cwd=ROOT)
    wheels = sorted(dist.glob("*.whl"))
    assert [w.name.split("-")[0] for w in wheels] == ["mxplug", "mxplug_numpy"]

    _run([sys.executable, "-m", "venv", venv], cwd=work)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", *_third_party_requirements(wheels)], cwd=work)
    _run([python, "-m", "pip", "install", "-q", "--no-index", "--find-links", dist, "mxplug", "mxplug-numpy"],
         cwd=work)

    # From a directory outside the tree, so nothing can be imported from the checkout.
    found = json.loads(_run([python, "-c", CHECK], cwd=work))
    package = Path(found["mxplug"]).parent
    assert package.is_relative_to(venv) and not package.is_relative_to(ROOT)
    assert Path(found["registry"]) == package / "_registry"
    assert found["registry_files"] == sorted(p.name for p in (ROOT / "registry").glob("*.toml"))
    assert found["ops"] > 0
    expected = [2 * sum(2.718281828459045 ** v for v in row) for row in ([0, 1, 2], [3, 4, 5])]
    assert found["result"] == pytest.approx(expected, rel=1e-5)

    report = json.loads(_run([venv / "bin" / "mxplug", "plugins", "--json"], cwd=work))
    numpy = next(p for p in report if p["name"] == "numpy")
    assert numpy["status"] == "loaded", numpy["error"]
    assert numpy["distribution"] == "mxplug-numpy" and numpy["kernels"] > 0
    assert [b["device_type"] for b in numpy["backends"]] == ["cpu"]
