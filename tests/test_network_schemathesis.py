"""Property-based API testing with schemathesis against the running server's OpenAPI schema.

Every documented operation gets generated requests (valid and invalid);
responses must never be 5xx and must match the documented status codes,
content types and schemas.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

pytestmark = [pytest.mark.network, pytest.mark.slow]


import _network_fixtures as nf  # noqa: E402  (tests/ is on pytest's pythonpath)


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("schemathesis") / "api.sqlite3"
    with nf.thread_server(
        database_url=f"sqlite:///{database}",
        min_contributors=1,
        rate_per_minute=1e6,
        rate_burst=1_000_000,
        global_rate_per_minute=1e9,
        global_burst=1_000_000,
    ) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(api_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{api_url}/openapi.json")


OPERATIONS = [
    "GET /",
    "GET /api/shared-optimizations",
    "GET /api/systems/{system_type}",
    "GET /api/network/status",
    "POST /api/network/sync",
    "POST /api/network/contribute",
    "GET /api/network/register",
    "POST /api/network/register",
    "GET /api/health",
]


def test_every_endpoint_is_covered(api_schema: Any) -> None:
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS)


#: Operations with no parameters and no body have no invalid input to generate.
WITHOUT_INPUT = {"POST /api/network/sync", "GET /api/health", "GET /api/network/register"}
CASES = [(label, "positive") for label in OPERATIONS] + [
    (label, "negative") for label in OPERATIONS if label not in WITHOUT_INPUT
]


@pytest.fixture(scope="module")
def installation(api_url: str) -> nf.Installation:
    return nf.register(api_url)


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_api_conforms_to_its_schema(
    api_schema: Any, installation: nf.Installation, label: str, mode: str
) -> None:
    operation = next(r.ok() for r in api_schema.get_all_operations() if r.ok().label == label)
    strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))

    @given(case=strategy)
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        if mode == "positive" and case.headers and "Idempotency-Key" in case.headers:
            # A key names one contribution: reusing it for another body is an
            # error by design, so valid requests get keys of their own.
            case.headers["Idempotency-Key"] = uuid.uuid4().hex
        if mode == "positive" and label == "POST /api/network/contribute":
            # Valid contributions come from an issued identity, so that they
            # reach storage and aggregation rather than stopping at 401.
            case.headers = {**(case.headers or {}), **installation.headers}
            if isinstance(case.body, dict):
                case.body["install_token"] = installation.install_token
        case.call_and_validate()

    check()
