"""The docs: the tutorial runs as written, every page is in the nav, snippets execute."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# Pages whose Python blocks are not run, each with why. Every other page runs
# top to bottom, after the setup below gives it what it assumes the reader has
# (a `circuit`, a run's `context`, a package the page writes itself).
_FRAGMENTS = {
    "hooks.md": "generated signatures, not code to run",
    "plugins.md": "run by tests/test_docs_plugin_guide.py and tests/test_plugin_set_explicit.py",
}


def _bell() -> Any:
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def _setup_backends(
    namespace: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp: Path, stack: ExitStack
) -> None:
    import qdframe

    namespace["circuit"] = _bell()
    # The page's conformance example imports the reader's own backend module.
    mysim = types.ModuleType("mysim")
    mysim.MySimBackend = lambda **options: qdframe.get_backend("numpy", **options)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mysim", mysim)


def _setup_hal(
    namespace: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp: Path, stack: ExitStack
) -> None:
    namespace["circuit"] = _bell()
    # The page writes a plugin package, qdframe_pi, and then tests it: install
    # its plugin block as that package.
    [plugin] = [
        b
        for b in _blocks(DOCS / "hal.md")
        if b.startswith("# src/qdframe_pi/plugin.py") and "RASPBERRY_PI_5 =" in b
    ]
    package = tmp / "qdframe_pi"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "plugin.py").write_text(plugin, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp))


def _setup_reports(
    namespace: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp: Path, stack: ExitStack
) -> None:
    import qdframe
    from qdframe.config import config_from_mapping
    from qdframe.context import RunContext
    from qdframe.topology import build_topology

    config = config_from_mapping(
        {"distributed": {"num_nodes": 4, "qubits_per_node": 1, "network_topology": "ring"}}
    )
    run_dir = tmp / "run"
    namespace.update(
        circuit=_bell(),
        config=config,
        topology=build_topology(config, plugins=qdframe.default_plugins()),
        context=RunContext(run_id="docs-report", config=config, run_dir=run_dir),
        run_dir=run_dir,
    )


def _setup_executors(
    namespace: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp: Path, stack: ExitStack
) -> None:
    pytest.importorskip("distributed")
    import socket

    from distributed import LocalCluster

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8786)) == 0:
            pytest.skip("port 8786 is taken; the page's external cluster listens there")
    # The page's "existing cluster" at tcp://127.0.0.1:8786, started for it.
    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        scheduler_port=8786,
        host="127.0.0.1",
        dashboard_address=None,
    )
    stack.callback(cluster.close)
    namespace.update(circuits=[_bell() for _ in range(3)], json_flag=False)
    # The page's `simulate` is a function of a script: a forked pool finds it
    # in the page's module, and Dask workers receive it by value, as they do
    # a notebook's functions.
    import cloudpickle

    module = sys.modules[namespace["__name__"]]
    cloudpickle.register_pickle_by_value(module)
    stack.callback(cloudpickle.unregister_pickle_by_value, module)


def _setup_network(
    namespace: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp: Path, stack: ExitStack
) -> None:
    pytest.importorskip("fastapi")
    import _network_fixtures as nf

    # A real sharing server on 127.0.0.1 and the reader's system.toml naming it.
    url = stack.enter_context(nf.thread_server(database_url=f"sqlite:///{tmp / 'share.db'}"))
    (tmp / "system.toml").write_text(
        "[network]\n"
        "enabled = true\n"
        f'primary_server = "{url}"\n'
        f'local_cache_file = "{tmp / "cache" / "shared_optimizations.json"}"\n'
        "auto_sync_interval_s = 3600.0\n",
        encoding="utf-8",
    )


def _setup_allocators(
    namespace: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp: Path, stack: ExitStack
) -> None:
    # The reader's own circuit and system: the shipped QFT on the 4-node ring.
    shutil.copy(tmp / "examples" / "qft8.qasm", tmp / "circuit.qasm")
    shutil.copy(tmp / "examples" / "ring4.toml", tmp / "system.toml")


_SETUP: dict[str, Callable[[dict[str, Any], pytest.MonkeyPatch, Path, ExitStack], None]] = {
    "allocators.md": _setup_allocators,
    "backends.md": _setup_backends,
    "hal.md": _setup_hal,
    "reports.md": _setup_reports,
    "executors.md": _setup_executors,
    "network.md": _setup_network,
}


def _blocks(page: Path, lang: str = "python") -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


def _nav_pages(nav: object) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(_nav_pages(item) for item in nav)) if nav else set()
    if isinstance(nav, dict):
        return set().union(*(_nav_pages(v) for v in nav.values()))
    return set()


def _nav() -> set[str]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return _nav_pages(config["nav"])


def test_every_page_is_in_the_nav() -> None:
    pages = {p.name for p in DOCS.glob("*.md")}
    missing = sorted(pages - _nav())
    assert not missing, f"docs pages missing from the mkdocs.yml nav: {missing}"


def test_nav_check_catches_an_omitted_page() -> None:
    assert _nav_pages([{"A": "a.md"}, {"Group": [{"B": "b.md"}]}]) == {"a.md", "b.md"}
    assert "tutorial.md" in _nav()


def _strict_build(root: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(root / "site")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def test_strict_build_fails_on_an_omitted_page(tmp_path: Path) -> None:
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    built = _strict_build(tmp_path)
    assert built.returncode == 0, built.stderr  # the docs as they are build strictly
    (tmp_path / "docs" / "orphan.md").write_text("# Orphan\n", encoding="utf-8")
    orphaned = _strict_build(tmp_path)
    assert orphaned.returncode != 0
    assert "orphan.md" in orphaned.stderr


def test_configuration_reference_names_no_internal_structs() -> None:
    # The seed's C struct names (distributed_quantum_config_t, ...) mean
    # nothing to a user, who writes TOML tables.
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert not re.findall(r"\b[a-z_]+_t\b", page)
    assert "## `[distributed]`" in page


def test_tutorial_covers_the_first_hour() -> None:
    text = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    headings = " | ".join(re.findall(r"^## (.+)$", text, re.M)).lower()
    for topic in ("plan", "run", "verify", "compare topologies", "write a plugin", "qiskit"):
        assert topic in headings, f"the tutorial has no section on {topic!r}: {headings}"
    qiskit = text.split("Use it from Qiskit", 1)[1]
    assert "```python" in qiskit  # shown in code that the tutorial test runs


def test_fragment_list_names_real_pages() -> None:
    for name in _FRAGMENTS:
        assert (DOCS / name).exists(), name
        assert _blocks(DOCS / name), f"{name} has no python snippets; drop it from the list"


# Pages whose snippets take more than a few seconds (the executors page
# starts two Dask clusters).
_SLOW_PAGES = {"executors.md"}


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(name, marks=pytest.mark.slow) if name in _SLOW_PAGES else name
        for name in sorted(
            p.name
            for p in DOCS.glob("*.md")
            if p.name not in _FRAGMENTS and p.name != "tutorial.md"
        )
    ],
)
def test_page_snippets_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    # The page runs as a module of its own, as a reader's script would.
    module = types.ModuleType(f"docs_{Path(page).stem}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace: dict[str, Any] = module.__dict__
    with ExitStack() as stack:
        if page in _SETUP:
            _SETUP[page](namespace, monkeypatch, tmp_path, stack)
        for block in _blocks(DOCS / page):
            exec(compile(block, str(DOCS / page), "exec"), namespace)
        # A page that shows a test of the reader's runs it too.
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value):
                value()


@pytest.mark.slow
def test_tutorial_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    text = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    namespace: dict[str, object] = {"__name__": "docs_tutorial"}
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    fences = re.findall(r"^```(\w*)$", text, re.M)
    opened = fences[::2]  # each block opens with a language and closes with ```
    # Code is python or bash, and all of it runs; text blocks show output.
    assert set(opened) <= {"python", "bash", "text"}, f"blocks the test would skip: {opened}"
    code = [lang for lang in opened if lang != "text"]
    ran = 0
    for lang, body in re.findall(r"```(python|bash)\n(.*?)```", text, re.S):
        if lang == "bash":
            for line in body.strip().splitlines():
                out = subprocess.run(
                    line, shell=True, capture_output=True, text=True, timeout=300, env=env
                )
                assert out.returncode == 0, f"{line}: {out.stderr}"
        else:
            exec(compile(body, str(DOCS / "tutorial.md"), "exec"), namespace)
        ran += 1
    assert ran == len(code) >= 8
    assert (tmp_path / "run-qft8" / "report.html").exists()
