"""``apply --verify``: shared settings are A/B timed here and kept only if faster."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from qdframe.config import NetworkClientConfig, SystemConfig  # noqa: E402
from qdframe.network import DistributedOptimizationNetwork  # noqa: E402
from qdframe.network.actions import apply_shared, write_config_file  # noqa: E402
from qdframe.network.applied import load_applied  # noqa: E402
from qdframe.tuning import verify_settings  # noqa: E402

pytestmark = pytest.mark.network

SYSTEM = "linux_x86_64_generic"


import _network_fixtures as nf  # noqa: E402  (tests/ is on pytest's pythonpath)


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], DistributedOptimizationNetwork]]:
    """A live server whose one contribution recommends the given settings, and a client."""
    with contextlib.ExitStack() as stack:

        def make(
            settings: dict[str, Any], *, check_results: bool = True
        ) -> DistributedOptimizationNetwork:
            url = stack.enter_context(
                nf.thread_server(database_url=f"sqlite:///{tmp_path / 's.db'}", min_contributors=1)
            )
            # Seeded by a registered installation, as every real client contributes.
            with httpx.Client(base_url=url, timeout=10) as seeder:
                nf.post(
                    seeder, nf.contribution(system_type=SYSTEM, settings=settings)
                ).raise_for_status()
            return DistributedOptimizationNetwork(
                NetworkClientConfig.model_validate({"primary_server": url}),
                cache_dir=tmp_path / "client",
                system_type=SYSTEM,
                whitelist=nf.make_whitelist(),
                check_results=check_results,
            )

        yield make


def test_verified_faster_settings_are_kept(shared: Any) -> None:
    client = shared({"backend.qsv.cross_check": False})
    report = apply_shared(
        client, config=SystemConfig(), verify=True, plugins=nf.load_test_plugins()
    )
    assert report.verification is not None and report.verification.faster
    assert report.verification.gain > 0.25
    assert report.kept
    assert load_applied(client.paths.applied_file) == {"backend.qsv.cross_check": False}


def test_settings_that_change_results_are_not_kept(shared: Any) -> None:
    # The client's own check before applying refuses this setting already (see
    # test_network_trust.py); without it, the A/B verification must refuse it too.
    client = shared({"backend.qsv.approximate": True}, check_results=False)
    report = apply_shared(
        client, config=SystemConfig(), verify=True, plugins=nf.load_test_plugins()
    )
    assert report.verification is not None and not report.verification.agrees
    assert not report.kept and "change results" in report.reason
    assert not client.paths.applied_file.exists()


def test_slower_settings_are_not_kept() -> None:
    plugins = nf.load_test_plugins()
    current = {"backend.qsv.cross_check": False}
    slower = verify_settings(current, {"backend.qsv.cross_check": True}, plugins=plugins)
    assert slower.agrees and not slower.faster and slower.gain < 0


def test_without_verify_changes_are_written_to_config_too(shared: Any, tmp_path: Path) -> None:
    client = shared({"acceleration.precision": "complex64"})
    config_file = tmp_path / "system.toml"
    config_file.write_text("[distributed]\nnum_nodes = 4\n")
    report = apply_shared(client, config=SystemConfig(), config_file=config_file)
    assert report.kept
    import tomllib

    data = tomllib.loads(config_file.read_text())
    assert data == {"distributed": {"num_nodes": 4}, "acceleration": {"precision": "complex64"}}
    assert json.loads(client.paths.applied_file.read_text())["settings"] == {
        "acceleration.precision": "complex64"
    }
    assert write_config_file(config_file, []) is False
