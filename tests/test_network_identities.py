"""Server-issued identities over HTTP on 127.0.0.1 with real SQLite: made-up installations
cannot move a recommendation; registration, proof of work and write limits hold."""

from __future__ import annotations

import itertools
import json
import secrets
import sqlite3
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from qdframe.network.proof import satisfies, solve  # noqa: E402
from qdframe.network.server.identities import IdentityIssuer, RegistrationError  # noqa: E402

pytestmark = pytest.mark.network


import _network_fixtures as nf  # noqa: E402  (tests/ is on pytest's pythonpath)

SYSTEM = "linux_x86_64_generic"
#: What an attacker would like every installation to run: wrong and fast.
POISON = {"backend.qsv.approximate": True, "acceleration.precision": "complex64"}
HONEST = {"backend.qsv.cross_check": False}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'identities.sqlite3'}"


def _published(client: Any, system_type: str = SYSTEM) -> dict[str, Any] | None:
    response = client.get(f"/api/systems/{system_type}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


@pytest.mark.parametrize("forged", [5, 50])
def test_made_up_installations_change_no_recommendation(db_url: str, forged: int) -> None:
    with (
        nf.thread_server(database_url=db_url, min_contributors=3) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        honest = [nf.register(client) for _ in range(3)]
        for who, savings in zip(honest[:2], (10.0, 20.0), strict=True):
            body = who.contribution(savings=savings, settings=HONEST)
            assert nf.post(client, body, installation=who).status_code == 200
        assert _published(client) is None  # 2 of 3: not yet

        # Made-up installations can neither publish early nor add a system type.
        statuses = nf.forged_posts(client, forged, honest[0], POISON)
        assert set(statuses) <= {401, 403} and len(statuses) == forged
        assert _published(client) is None
        bodies = [nf.contribution(system_type="apple_silicon_m1", settings=POISON)] * 3
        for body in bodies:
            response = client.post("/api/network/contribute", json=body)
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
        assert _published(client, "apple_silicon_m1") is None

        # The third honest installation publishes, with the honest choice.
        body = honest[2].contribution(savings=30.0, settings=HONEST)
        assert nf.post(client, body, installation=honest[2]).status_code == 200
        before = _published(client)
        assert before is not None
        assert before["contributor_count"] == 3 and before["average_savings"] == 20.0
        assert before["recommended_settings"] == HONEST

        statuses = nf.forged_posts(client, forged, honest[1], POISON)
        assert set(statuses) <= {401, 403}
        assert _published(client) == before
        health = client.get("/api/health").json()
        assert health["contributions"] == 3
        shared = client.get("/api/shared-optimizations").json()
        assert shared["total_systems_sharing"] == 3


def test_one_issued_identity_contributing_often_publishes_nothing(db_url: str) -> None:
    with (
        nf.thread_server(database_url=db_url, min_contributors=3) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        one = nf.register(client)
        for _ in range(20):
            body = one.contribution(savings=99.0, settings=POISON)
            assert nf.post(client, body, installation=one).status_code == 200
        assert _published(client) is None
        problem = client.get(f"/api/systems/{SYSTEM}").json()
        assert "1 of 3 installations" in problem["detail"]


def test_registration_is_limited_per_client_address(db_url: str) -> None:
    with nf.thread_server(
        database_url=db_url, registration_per_hour=1.0, registration_burst=2
    ) as url:
        assert nf.register(url).install_token != nf.register(url).install_token
        with httpx.Client(base_url=url, timeout=10) as client:
            challenge = client.get("/api/network/register").json()
            refused = client.post(
                "/api/network/register", json={"challenge": challenge["challenge"], "nonce": "0"}
            )
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) >= 60
        assert refused.headers["content-type"].startswith("application/problem+json")
        # Another address (127.0.0.0/8 is all loopback) is not affected.
        assert nf.register(url, local_address="127.0.0.2").install_token


def test_proof_of_work_is_required_when_configured(db_url: str) -> None:
    with (
        nf.thread_server(database_url=db_url, pow_bits=12) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        challenge = client.get("/api/network/register").json()
        assert challenge["difficulty_bits"] == 12
        assert challenge["algorithm"] == "sha256-leading-zero-bits"
        text = challenge["challenge"]
        nonce = solve(text, 12)
        wrong = next(str(n) for n in itertools.count() if not satisfies(text, str(n), 12))
        bad = client.post("/api/network/register", json={"challenge": text, "nonce": wrong})
        assert bad.status_code == 403 and "proof of work" in bad.json()["detail"]
        tampered = text[:-1] + ("0" if text[-1] != "0" else "1")
        forged = client.post("/api/network/register", json={"challenge": tampered, "nonce": nonce})
        assert forged.status_code == 403 and "not issued" in forged.json()["detail"]
        first = client.post("/api/network/register", json={"challenge": text, "nonce": nonce})
        assert first.status_code == 200
        again = client.post("/api/network/register", json={"challenge": text, "nonce": nonce})
        # Replaying a solved challenge gives the same identity, never a new one.
        assert again.json()["install_token"] == first.json()["install_token"]
    path = db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        (issued,) = db.execute("SELECT count(*) FROM installations").fetchone()
        columns = {row[1] for row in db.execute("PRAGMA table_info(installations)")}
    assert issued == 1
    assert columns == {"install_id", "issued_at"}  # no address, nothing about the host


def test_global_write_limit_holds_across_installations(db_url: str) -> None:
    with (
        nf.thread_server(database_url=db_url, global_rate_per_minute=0.01, global_burst=3) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        codes = [nf.post(client).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        limited = nf.post(client)  # a fresh installation, within its own limit
        assert limited.status_code == 429
        assert limited.json()["type"].endswith("#server-busy")
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/api/health").json()["contributions"] == 3


def test_system_types_are_a_known_bounded_set(db_url: str) -> None:
    with (
        nf.thread_server(database_url=db_url, system_types=("lab_cluster_a",)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        refused = nf.post(client, system_type="fuzzed_type_17")
        assert refused.status_code == 422
        problem = refused.json()
        assert problem["errors"][0]["loc"] == ["body", "system_type"]
        assert "not known to this server" in problem["detail"]
        assert nf.post(client, system_type="lab_cluster_a").status_code == 200
        assert nf.post(client, system_type="apple_silicon_m3").status_code == 200
        schema = client.get("/openapi.json").json()
    contribution = schema["components"]["schemas"]["ContributionIn"]
    accepted = contribution["properties"]["system_type"]["enum"]
    assert "lab_cluster_a" in accepted and "fuzzed_type_17" not in accepted
    assert schema["paths"]["/api/network/contribute"]["post"]["security"] == [{"identity": []}]


def test_server_settings_refuse_unbounded_or_weak_values() -> None:
    from qdframe.errors import ConfigError
    from qdframe.network.server.settings import ServerSettings

    with pytest.raises(ConfigError, match="at least 32 characters"):
        ServerSettings(identity_secret="short")
    with pytest.raises(ConfigError, match="0 to 24 bits"):
        ServerSettings(pow_bits=30)
    with pytest.raises(ConfigError, match="at most 256 extra system types"):
        ServerSettings(system_types=tuple(f"t{i}" for i in range(257)))
    with pytest.raises(ConfigError, match="invalid system type"):
        ServerSettings(system_types=("Not Valid",))
    with pytest.raises(ConfigError, match="global write limit"):
        ServerSettings(global_burst=0)
    with pytest.raises(ConfigError, match="registration limit"):
        ServerSettings(registration_per_hour=0)


def test_shared_optimizations_are_paginated_within_bounds(db_url: str) -> None:
    systems = ["apple_silicon_m1", "apple_silicon_m2", "apple_silicon_m3", "intel_mac_i7", SYSTEM]
    with (
        nf.thread_server(database_url=db_url, min_contributors=1) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        for system_type in systems:
            assert nf.post(client, system_type=system_type).status_code == 200
        seen: list[str] = []
        offset: int | None = 0
        pages = 0
        while offset is not None:
            page = client.get(
                "/api/shared-optimizations", params={"limit": 2, "offset": offset}
            ).json()
            assert len(page["available_optimizations"]) <= 2
            assert page["total_available"] == 5
            seen += [s["system_type"] for s in page["available_optimizations"]]
            offset = page["next_offset"]
            pages += 1
        assert pages == 3 and seen == sorted(systems)
        for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"offset": 1_000_001}):
            response = client.get("/api/shared-optimizations", params=bad)
            assert response.status_code == 422, bad
        past = client.get("/api/shared-optimizations", params={"offset": 10}).json()
        assert past["available_optimizations"] == [] and past["next_offset"] is None


def test_contributions_stored_before_identities_never_count(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from qdframe.network.server import storage

    path = tmp_path / "old.sqlite3"
    url = f"sqlite:///{path}"
    engine = storage.create_database_engine(url)
    config = Config()
    config.set_main_option("script_location", str(Path(storage.__file__).with_name("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    engine.dispose()
    with sqlite3.connect(path) as db:
        for _ in range(3):  # three made-up tokens, as the old server accepted them
            db.execute(
                "INSERT INTO contributions (received_at, qdframe_version, system_type, "
                "install_token, suite, savings, energy_savings, quantum_advantage, settings, "
                "workloads) VALUES (1, ?, ?, ?, 'standard', 99, NULL, 1, ?, '{}')",
                (nf.__version__, SYSTEM, secrets.token_hex(16), json.dumps(POISON)),
            )
    with (
        nf.thread_server(database_url=url, min_contributors=3) as server,
        httpx.Client(base_url=server, timeout=10) as client,
    ):
        assert client.get("/api/health").json()["contributions"] == 3
        assert _published(client) is None
        for _ in range(3):
            assert nf.post(client, settings=HONEST).status_code == 200
        published = _published(client)
    assert published is not None
    assert published["contributor_count"] == 3 and published["recommended_settings"] == HONEST
    with sqlite3.connect(path) as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == "0002"


def test_identities_survive_a_restart_and_die_with_the_secret(db_url: str, tmp_path: Path) -> None:
    with nf.thread_server(database_url=db_url) as url:
        who = nf.register(url)
    with (
        nf.thread_server(database_url=db_url) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        assert nf.post(client, installation=who).status_code == 200
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    with (
        nf.thread_server(database_url=other, identity_secret="x" * 40) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        refused = nf.post(client, installation=who)
        assert refused.status_code == 401
        assert "not issued by this server" in refused.json()["detail"]


def test_issuer_refuses_tampered_and_expired_input() -> None:
    issuer = IdentityIssuer(b"k" * 32, difficulty_bits=4, challenge_ttl_s=60)
    token = issuer.token("ab" * 16)
    assert issuer.verify(token) == "ab" * 16
    for bad in (
        token[:-1] + ("0" if token[-1] != "0" else "1"),
        token.replace("v1.", "v2.", 1),
        "v1." + "cd" * 16 + token[-65:],  # another id under this id's signature
        "",
        "v1..",
    ):
        assert issuer.verify(bad) is None, bad
    assert IdentityIssuer(b"j" * 32).verify(token) is None
    puzzle = issuer.challenge(now=1000.0)
    nonce = solve(puzzle.challenge, 4)
    assert issuer.register(puzzle.challenge, nonce, now=1000.0)
    with pytest.raises(RegistrationError, match="expired"):
        issuer.register(puzzle.challenge, nonce, now=1061.0)
    harder = IdentityIssuer(b"k" * 32, difficulty_bits=8)
    with pytest.raises(RegistrationError, match="now needs 8"):
        harder.register(puzzle.challenge, nonce, now=1000.0)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        IdentityIssuer(b"short")
    assert IdentityIssuer.bearer("Bearer abc") == "abc"
    assert IdentityIssuer.bearer("Basic abc") is None and IdentityIssuer.bearer(None) is None
