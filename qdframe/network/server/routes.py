"""The HTTP endpoints of the sharing server.

Reads are answered from the in-memory aggregated view (rendered responses are
cached until the data changes); writes go through the single writer thread.
The server never reads the client's address.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from qdframe.network.schemas import (
    ContributedData,
    ContributeResponse,
    ContributionIn,
    CurrentSystem,
    FieldError,
    HealthResponse,
    NetworkStatus,
    Servers,
    SharedOptimizationsResponse,
    StatusResponse,
    SyncResponse,
    SystemOptimization,
)
from qdframe.network.server.dashboard import CONTENT_SECURITY_POLICY, render_dashboard
from qdframe.network.server.problems import ProblemError
from qdframe.network.server.state import ServerState
from qdframe.network.server.writer import PendingWrite

__all__ = ["router"]

router = APIRouter()

_JSON = "application/json"
_SYSTEM_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{0,63}$"
_VERSION_PATTERN = r"^[0-9][0-9A-Za-z.+!\-]{0,31}$"
_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"
_MAX_ERRORS = 20

SystemTypeQuery = Annotated[
    str | None,
    Query(pattern=_SYSTEM_PATTERN, description="HAL system type, e.g. apple_silicon_m3_pro."),
]
VersionQuery = Annotated[
    str | None,
    Query(pattern=_VERSION_PATTERN, description="qdframe version; the server's own by default."),
]


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.qdframe
    return state


def _network_status(state: ServerState, published: list[SystemOptimization]) -> NetworkStatus:
    return NetworkStatus(
        enabled=True,
        network_available=True,
        last_sync=max((s.last_updated for s in published), default=None),
        cached_optimizations=len(published),
        auto_sync_enabled=state.settings.refresh_s > 0,
    )


def _json(body: bytes | str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status, media_type=_JSON, headers=headers)


@router.get(
    "/api/shared-optimizations",
    response_model=SharedOptimizationsResponse,
    summary="Published optimizations per system type",
    tags=["optimizations"],
)
async def shared_optimizations(
    request: Request, system_type: SystemTypeQuery = None, qdframe_version: VersionQuery = None
) -> Response:
    """Every published system type of one qdframe version, and the entry for ``system_type``."""
    state = _state(request)
    version = qdframe_version or state.version
    key = ("shared", version, system_type, state.view.generation)
    cached = state.responses.get(key)
    if isinstance(cached, bytes):
        return _json(cached)
    published = state.view.published(version)
    body = (
        SharedOptimizationsResponse(
            available_optimizations=published,
            recommended_for_system=(
                state.view.system(version, system_type) if system_type is not None else None
            ),
            total_systems_sharing=state.view.total_contributors(version),
            network_status=_network_status(state, published),
            current_system_type=system_type,
            qdframe_version=version,
            min_contributors=state.settings.min_contributors,
        )
        .model_dump_json()
        .encode()
    )
    state.responses.put(key, body)
    return _json(body)


@router.get(
    "/api/systems/{system_type}",
    response_model=SystemOptimization,
    summary="Published optimization data of one system type",
    tags=["optimizations"],
    responses={404: {"description": "Not published (yet) for this system type and version"}},
)
async def system(
    request: Request,
    system_type: Annotated[str, Path(pattern=_SYSTEM_PATTERN)],
    qdframe_version: VersionQuery = None,
) -> Response:
    """The aggregate for ``system_type``; 404 until enough installations contributed."""
    state = _state(request)
    version = qdframe_version or state.version
    found = state.view.system(version, system_type)
    if found is None:
        have = state.view.pending_count(version, system_type)
        raise ProblemError(
            404,
            f"No shared optimizations found for system type: {system_type} "
            f"(qdframe {version}; {have} of {state.settings.min_contributors} "
            "installations needed have contributed)",
            slug="no-optimizations",
        )
    return _json(found.model_dump_json())


@router.get(
    "/api/network/status",
    response_model=StatusResponse,
    summary="Network status as this server sees it",
    tags=["network"],
)
async def network_status(
    request: Request, system_type: SystemTypeQuery = None, qdframe_version: VersionQuery = None
) -> Response:
    state = _state(request)
    version = qdframe_version or state.version
    published = state.view.published(version)
    data = state.view.system(version, system_type) if system_type else None
    primary = state.settings.public_url or str(request.base_url).rstrip("/")
    body = StatusResponse(
        network_status=_network_status(state, published),
        current_system=CurrentSystem(
            type=system_type,
            optimizations_available=data is not None,
            optimization_data=data,
            match_level="exact" if data is not None else None,
        ),
        servers=Servers(primary=primary, backups=list(state.settings.peers)),
    )
    return _json(body.model_dump_json())


@router.post(
    "/api/network/sync",
    response_model=SyncResponse,
    summary="Pick up contributions other server processes stored",
    tags=["network"],
)
async def network_sync(request: Request) -> Response:
    """Refresh the aggregated view from the database (servers sharing PostgreSQL)."""
    state = _state(request)
    await run_in_threadpool(state.pull, min_interval_s=0.5)
    published = state.view.published(state.version)
    body = SyncResponse(
        success=True,
        message="Successfully synced with distributed network",
        optimizations_fetched=len(published),
        optimizations_applied=True,
        last_sync=int(time.time()),
    )
    return _json(body.model_dump_json())


def _body_hash(contribution: ContributionIn) -> str:
    canonical = json.dumps(contribution.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _whitelist_errors(state: ServerState, contribution: ContributionIn) -> list[FieldError]:
    whitelist = state.whitelists.get(contribution.qdframe_version)
    if whitelist is None:
        accepted = ", ".join(sorted(state.whitelists))
        return [
            FieldError(
                loc=["body", "qdframe_version"],
                msg=f"this server has no settings whitelist for qdframe "
                f"{contribution.qdframe_version}; accepted versions: {accepted}",
                type="unknown_version",
            )
        ]
    errors = [
        FieldError(loc=["body", "settings", p.key], msg=p.message, type="not_whitelisted")
        for p in whitelist.check(contribution.settings)
    ]
    for name, workload in contribution.workloads.items():
        errors.extend(
            FieldError(
                loc=["body", "workloads", name, "settings", p.key],
                msg=p.message,
                type="not_whitelisted",
            )
            for p in whitelist.check(workload.settings)
        )
    return errors


def _idempotency_conflict(key: str) -> ProblemError:
    return ProblemError(
        422,
        f"Idempotency-Key {key!r} was already used with a different request body; "
        "use a new key for a new contribution",
        slug="idempotency-key-reused",
    )


@router.post(
    "/api/network/contribute",
    response_model=ContributeResponse,
    summary="Contribute one tuning result",
    tags=["network"],
    responses={
        413: {"description": "Request body too large"},
        429: {"description": "Too many contributions from this installation"},
        503: {"description": "Storage unavailable; retry later"},
    },
)
async def contribute(
    request: Request,
    contribution: ContributionIn,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=_KEY_PATTERN,
            description="Makes retries safe: the same key and body get the first answer.",
        ),
    ] = None,
) -> Response:
    """Store a contribution; settings must be in the whitelist of its qdframe version."""
    state = _state(request)
    body_hash = _body_hash(contribution)
    if idempotency_key is not None:
        remembered = state.remembered(idempotency_key)
        if remembered is not None:
            if remembered[0] != body_hash:
                raise _idempotency_conflict(idempotency_key)
            return _json(remembered[1], headers={"Idempotent-Replayed": "true"})
    wait = state.limiter.acquire(contribution.install_token)
    if wait > 0:
        retry = state.limiter.retry_after(wait)
        raise ProblemError(
            429,
            f"too many contributions from this installation; retry in {retry} s",
            slug="rate-limited",
            headers={"Retry-After": str(retry)},
        )
    errors = _whitelist_errors(state, contribution)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ProblemError(
            422, errors[0].msg + more, slug="settings-not-allowed", errors=errors[:_MAX_ERRORS]
        )
    energy = contribution.energy_savings
    response = ContributeResponse(
        success=True,
        message="Optimization contributed to network",
        contributed_data=ContributedData(
            energy_savings=energy if energy is not None else contribution.savings,
            savings_basis="energy" if energy is not None else "time",
            time_savings=contribution.savings,
            quantum_advantage=contribution.quantum_advantage,
            processes_count=len(contribution.workloads),
        ),
    ).model_dump_json()
    future = state.writer.submit(PendingWrite(contribution, response, idempotency_key, body_hash))
    try:
        outcome = await asyncio.wrap_future(future)
    except Exception as exc:
        raise ProblemError(
            503,
            "the contribution could not be stored; it was not recorded, retry later",
            slug="storage-unavailable",
            headers={"Retry-After": "5"},
        ) from exc
    if outcome.conflict:
        assert idempotency_key is not None
        raise _idempotency_conflict(idempotency_key)
    if idempotency_key is not None:
        state.remember(idempotency_key, body_hash, outcome.response)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return _json(outcome.response, headers=headers)


@router.get(
    "/api/health",
    response_model=HealthResponse,
    summary="Liveness and database reachability",
    tags=["network"],
    responses={503: {"description": "Database unreachable"}},
)
async def health(request: Request) -> Response:
    state = _state(request)
    if not await run_in_threadpool(state.database_ok):
        raise ProblemError(503, "the database is unreachable", slug="database-unavailable")
    body = HealthResponse(
        status="ok",
        qdframe_version=state.version,
        database=state.dialect,
        contributions=state.view.contribution_count,
    )
    return _json(body.model_dump_json())


@router.get(
    "/",
    response_class=HTMLResponse,
    summary="Dashboard: systems table and savings distribution",
    tags=["dashboard"],
)
async def dashboard(request: Request, qdframe_version: VersionQuery = None) -> Response:
    state = _state(request)
    version = qdframe_version or state.version
    key = ("dashboard", version, state.view.generation)
    cached = state.responses.get(key)
    if not isinstance(cached, str):
        cached = render_dashboard(
            qdframe_version=version,
            versions=sorted({*state.view.versions(), state.version}),
            summaries=state.view.summaries(version),
            contributor_medians=state.view.contributor_medians(version),
            min_contributors=state.settings.min_contributors,
        )
        state.responses.put(key, cached)
    return HTMLResponse(cached, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})
