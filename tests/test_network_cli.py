"""``qdframe network`` and ``qdframe tune`` commands against real servers."""

from __future__ import annotations

import getpass
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from qdframe.cli.network import app as network_app  # noqa: E402
from qdframe.network.schemas import ContributionIn  # noqa: E402
from qdframe.tuning import TuneOptions, Tuner, TuneResult  # noqa: E402

pytestmark = pytest.mark.network


import _network_fixtures as nf  # noqa: E402  (tests/ is on pytest's pythonpath)

runner = CliRunner()


def _invoke(*args: str) -> Any:
    return runner.invoke(network_app, list(args), catch_exceptions=False)


def _tune_into(cache_dir: Path, system_type: str) -> TuneResult:
    """Tune with the test plugin and store the result where `contribute` looks."""
    result = Tuner(
        nf.load_test_plugins(),
        TuneOptions(suite="quick", repeats=5, num_qubits=7),
        system_type=system_type,
    ).run()
    result.save(cache_dir / "tune_result.json")
    return result


@pytest.mark.slow
def test_contribute_from_two_installations_then_status_elsewhere(tmp_path: Path) -> None:
    whitelist = nf.write_whitelist(tmp_path / "whitelist.json")
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    system = "linux_x86_64_generic"
    installs = ("install-a", "install-b")
    for name in installs:  # tune first: timing is steadier with no server starting up
        result = _tune_into(tmp_path / name, system)
        assert result.changed_settings["backend.qsv.cross_check"] is False
    with nf.ServerProcess(database, whitelist, extra=["--min-contributors", "2"]) as server:
        for name in installs:
            out = _invoke(
                "contribute", "--cache-dir", str(tmp_path / name), "--server", server.url, "--json"
            )
            assert out.exit_code == 0, out.output
            assert json.loads(out.stdout)["sent"] is True

        out = _invoke(
            "status",
            "--cache-dir",
            str(tmp_path / "install-c"),
            "--server",
            server.url,
            "--system-type",
            system,
            "--json",
        )
        assert out.exit_code == 0, out.output
        status = json.loads(out.stdout)
        data = status["current_system"]["optimization_data"]
        assert status["current_system"]["match_level"] == "exact"
        assert data["contributor_count"] == 2
        assert data["recommended_settings"]["backend.qsv.cross_check"] is False
        assert data["recommended_settings"]["backend.qsv.approximate"] is False
        assert set(data["process_optimizations"]) == {"qft", "ghz", "random"}

        text = _invoke(
            "status",
            "--cache-dir",
            str(tmp_path / "install-c"),
            "--server",
            server.url,
            "--system-type",
            system,
        )
        assert "from 2 installation(s)" in text.stdout
        assert "backend.qsv.cross_check" in text.stdout


def test_contribute_dry_run_prints_exactly_the_body_and_sends_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "dry"
    result = _tune_into(cache, "linux_x86_64_generic")
    with nf.thread_server(database_url=f"sqlite:///{tmp_path / 'dry.db'}") as url:
        out = _invoke(
            "contribute", "--cache-dir", str(cache), "--server", url, "--dry-run", "--json"
        )
        assert out.exit_code == 0, out.output
        preview = json.loads(out.stdout)
        assert httpx.get(f"{url}/api/health").json()["contributions"] == 0
    token = (cache / "install_token").read_text().strip()
    assert preview["body"] == result.to_contribution(token).model_dump(mode="json")
    assert preview["servers"] == [url] and preview["method"] == "POST"
    ContributionIn.model_validate(preview["body"])  # it is a valid contribution
    text = json.dumps(preview)
    assert socket.gethostname() not in text
    assert getpass.getuser() not in json.dumps(preview["body"])


def test_contribute_without_tuning_result_is_a_usage_error(tmp_path: Path) -> None:
    out = runner.invoke(network_app, ["contribute", "--cache-dir", str(tmp_path), "--dry-run"])
    assert out.exit_code == 2
    assert "run `qdframe tune` first" in out.output


def test_sync_exit_code_and_offline_status(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{nf.free_port()}"
    out = runner.invoke(
        network_app, ["sync", "--cache-dir", str(tmp_path), "--server", dead, "--json"]
    )
    assert out.exit_code == 1
    assert json.loads(out.stdout)["success"] is False
    assert "All servers unavailable, using cached data" in out.stderr

    out = _invoke(
        "status", "--cache-dir", str(tmp_path), "--offline", "--system-type", "x_y_z", "--json"
    )
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    assert data["network_status"]["network_available"] is False
    assert data["current_system"]["optimization_data"] is None


def test_apply_refuses_settings_this_installation_does_not_declare(tmp_path: Path) -> None:
    with nf.thread_server(database_url=f"sqlite:///{tmp_path / 'a.db'}", min_contributors=1) as url:
        with httpx.Client(base_url=url, timeout=10) as http:
            nf.post(http, system_type="linux_x86_64_generic").raise_for_status()
        out = _invoke(
            "apply",
            "--cache-dir",
            str(tmp_path / "c"),
            "--server",
            url,
            "--system-type",
            "linux_x86_64_generic",
            "--json",
        )
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["kept"] is False and report["written"] == []
    refused = [c for c in report["changes"] if not c["applied"]]
    assert refused and all("not declared" in c["reason"] for c in refused)
    assert not (tmp_path / "c" / "applied_settings.json").exists()


def test_tune_command_is_registered() -> None:
    from qdframe.cli.tune import register

    app = typer.Typer()
    register(app)

    @app.command()
    def _other() -> None:  # a second command keeps `tune` a named sub-command
        pass

    out = runner.invoke(app, ["tune", "--help"])
    assert out.exit_code == 0
    for option in ("--quick", "--contribute", "--json", "--cache-dir"):
        assert option in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pow-bits", "25"], "--pow-bits"),
        (["--registration-burst", "0"], "--registration-burst"),
        (["--system-type", "Not Valid"], "invalid system type"),
    ],
)
def test_serve_refuses_bad_identity_options(tmp_path: Path, args: list[str], message: str) -> None:
    out = runner.invoke(network_app, ["serve", "--db", f"sqlite:///{tmp_path / 's.db'}", *args])
    assert out.exit_code == 2
    assert message in out.output
    assert not (tmp_path / "s.db").exists()  # nothing written


def test_serve_refuses_a_short_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("too-short\n")
    out = runner.invoke(
        network_app,
        ["serve", "--db", f"sqlite:///{tmp_path / 's.db'}", "--secret-file", str(secret)],
    )
    assert out.exit_code == 2
    assert "at least 32 characters" in out.output
    assert "Traceback" not in out.output
