"""Loading the plugins registers factories without importing what they need to run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Packages no registration may import: simulators, Qiskit, scientific stacks,
# cluster, server and plotting libraries. Each command imports what it uses.
_NOT_AT_REGISTRATION = (
    "qiskit",
    "qiskit_aer",
    "qiskit_addon_cutting",
    "scipy",
    "numba",
    "dask",
    "distributed",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "matplotlib",
)
_PLUGIN_PACKAGES = (
    "qdframe_aer",
    "qdframe_allocators",
    "qdframe_cutting",
    "qdframe_dask",
    "qdframe_errors",
    "qdframe_executors",
    "qdframe_faults",
    "qdframe_mac",
    "qdframe_mitigation",
    "qdframe_numpy",
    "qdframe_optimizers",
    "qdframe_topologies",
)


def _loaded_roots(code: str) -> set[str]:
    script = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    modules: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return {m.split(".")[0] for m in modules}


def test_loading_every_plugin_imports_none_of_the_heavy_packages() -> None:
    roots = _loaded_roots(
        "import qdframe\n"
        "loaded = qdframe.load_plugins()\n"
        "assert not loaded.failures, loaded.failures\n"
        "assert {'numpy', 'aer'} <= set(loaded.registries.backends.names())\n"
        "assert 'auto' in loaded.registries.allocators\n"
    )
    assert set(_PLUGIN_PACKAGES) <= roots  # every entry point really loaded
    assert sorted(roots & set(_NOT_AT_REGISTRATION)) == []


@pytest.mark.parametrize("package", _PLUGIN_PACKAGES)
def test_importing_a_plugin_package_imports_no_qiskit(package: str) -> None:
    assert sorted(_loaded_roots(f"import {package}") & {"qiskit", "scipy", "numba"}) == []


def test_the_probe_sees_what_building_a_factory_imports() -> None:
    # The same probe, once a registered factory is used, sees its imports:
    # the checks above would fail if registration still imported them.
    roots = _loaded_roots(
        "import qdframe\nqdframe.load_plugins().registries.backends.get('numpy')()\n"
    )
    assert "qiskit" in roots


def test_the_plugin_surface_is_light() -> None:
    roots = _loaded_roots("import qdframe.plugin\nfrom qdframe.plugin import lazy_factory")
    assert sorted(roots & {"numpy", "pydantic", "qiskit", "pluggy"}) == []
