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
    RegistrationChallenge,
    RegistrationIn,
    RegistrationResponse,
    Servers,
    SharedOptimizationsResponse,
    StatusResponse,
    SyncResponse,
    SystemOptimization,
)
from qdframe.network.server.dashboard import CONTENT_SECURITY_POLICY, render_dashboard
from qdframe.network.server.identities import RegistrationError
from qdframe.network.server.problems import ProblemError
from qdframe.network.server.state import ServerState
from qdframe.network.server.storage import record_installation
from qdframe.network.server.writer import PendingWrite

__all__ = ["MAX_PAGE_SIZE", "router"]

router = APIRouter()

_JSON = "application/json"
_SYSTEM_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{0,63}$"
_VERSION_PATTERN = r"^[0-9][0-9A-Za-z.+!\-]{0,31}$"
_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"
_MAX_ERRORS = 20
#: Most entries one page of a list response carries.
MAX_PAGE_SIZE = 500
_MAX_OFFSET = 1_000_000

SystemTypeQuery = Annotated[
    str | None,
    Query(pattern=_SYSTEM_PATTERN, description="HAL system type, e.g. apple_silicon_m3_pro."),
]
VersionQuery = Annotated[
    str | None,
    Query(pattern=_VERSION_PATTERN, description="qdframe version; the server's own by default."),
]
LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Entries per page (1 to {MAX_PAGE_SIZE}).")
]
OffsetQuery = Annotated[
    int, Query(ge=0, le=_MAX_OFFSET, description="Entries to skip (from next_offset).")
]
AuthorizationHeader = Annotated[
    str | None,
    Header(
        alias="Authorization",
        max_length=256,
        description="`Bearer <token>` from POST /api/network/register.",
    ),
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
    request: Request,
    system_type: SystemTypeQuery = None,
    qdframe_version: VersionQuery = None,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> Response:
    """A page of the published system types of a qdframe version, and ``system_type``'s entry."""
    state = _state(request)
    version = qdframe_version or state.version
    key = ("shared", version, system_type, limit, offset, state.view.generation)
    cached = state.responses.get(key)
    if isinstance(cached, bytes):
        return _json(cached)
    published = state.view.published(version)
    page = published[offset : offset + limit]
    following = offset + limit
    body = (
        SharedOptimizationsResponse(
            available_optimizations=page,
            recommended_for_system=(
                state.view.system(version, system_type) if system_type is not None else None
            ),
            total_systems_sharing=state.view.total_contributors(version),
            network_status=_network_status(state, published),
            current_system_type=system_type,
            qdframe_version=version,
            min_contributors=state.settings.min_contributors,
            total_available=len(published),
            offset=offset,
            limit=limit,
            next_offset=following if following < len(published) else None,
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


def _system_type_errors(state: ServerState, contribution: ContributionIn) -> list[FieldError]:
    if contribution.system_type in state.system_types:
        return []
    examples = ", ".join(sorted(state.system_types)[:5])
    return [
        FieldError(
            loc=["body", "system_type"],
            msg=f"system type {contribution.system_type!r} is not known to this server; "
            f"accepted: the {len(state.system_types)} HAL profile ids and generic types "
            f"(e.g. {examples}; see `qdframe hal profiles`) and those the operator adds "
            "with --system-type",
            type="unknown_system_type",
        )
    ]


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


def _authorize(state: ServerState, authorization: str | None, contribution: ContributionIn) -> None:
    """Refuse a contribution that does not come from an identity this server issued."""
    token = state.issuer.bearer(authorization)
    install_id = state.issuer.verify(token) if token is not None else None
    if install_id is None:
        detail = (
            "contributions need an identity this server issued: register with "
            "POST /api/network/register and send `Authorization: Bearer <token>`"
            if token is None
            else "the identity token was not issued by this server; register again"
        )
        raise ProblemError(
            401, detail, slug="identity-required", headers={"WWW-Authenticate": "Bearer"}
        )
    if contribution.install_token != install_id:
        raise ProblemError(
            403,
            "install_token must be the install id of the identity in the Authorization header",
            slug="identity-mismatch",
        )


def _client_address(request: Request) -> str:
    # Only a rate-limit key: held in memory for the limit's window, never stored or logged.
    return request.client.host if request.client is not None else "unknown"


@router.get(
    "/api/network/register",
    response_model=RegistrationChallenge,
    summary="A challenge to solve before registering an installation",
    tags=["identities"],
)
async def registration_challenge(request: Request) -> Response:
    """A signed challenge with the proof-of-work difficulty this server asks."""
    found = _state(request).issuer.challenge()
    body = RegistrationChallenge(
        challenge=found.challenge,
        difficulty_bits=found.difficulty_bits,
        expires_at=found.expires_at,
    )
    return _json(body.model_dump_json(), headers={"Cache-Control": "no-store"})


@router.post(
    "/api/network/register",
    response_model=RegistrationResponse,
    summary="Register an installation: a solved challenge for a signed identity",
    tags=["identities"],
    responses={
        403: {"description": "Challenge forged or expired, or the proof of work is wrong"},
        413: {"description": "Request body too large"},
        429: {"description": "Too many registrations from this address"},
        503: {"description": "Storage unavailable; retry later"},
    },
)
async def register(request: Request, registration: RegistrationIn) -> Response:
    """Issue an identity; registrations are limited per client address."""
    state = _state(request)
    wait = state.registration_limiter.acquire(_client_address(request))
    if wait > 0:
        retry = state.registration_limiter.retry_after(wait)
        raise ProblemError(
            429,
            f"too many registrations from this address; retry in {retry} s",
            slug="registration-rate-limited",
            headers={"Retry-After": str(retry)},
        )
    try:
        install_id = state.issuer.register(registration.challenge, registration.nonce)
    except RegistrationError as exc:
        raise ProblemError(403, str(exc), slug="registration-refused") from None
    try:
        await run_in_threadpool(record_installation, state.engine, install_id)
    except Exception as exc:
        raise ProblemError(
            503,
            "the identity could not be stored; retry later",
            slug="storage-unavailable",
            headers={"Retry-After": "5"},
        ) from exc
    body = RegistrationResponse(install_token=install_id, token=state.issuer.token(install_id))
    return _json(body.model_dump_json(), headers={"Cache-Control": "no-store"})


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
        401: {"description": "No identity, or one this server did not issue; register again"},
        403: {"description": "install_token is not the identity of the Authorization header"},
        413: {"description": "Request body too large"},
        429: {"description": "Too many contributions from this installation, or in all"},
        503: {"description": "Storage unavailable; retry later"},
    },
)
async def contribute(
    request: Request,
    contribution: ContributionIn,
    authorization: AuthorizationHeader = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=_KEY_PATTERN,
            description="Makes retries safe: the same key and body get the first answer.",
        ),
    ] = None,
) -> Response:
    """Store a contribution of an issued identity; settings must be in its version's whitelist."""
    state = _state(request)
    _authorize(state, authorization, contribution)
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
    errors = _system_type_errors(state, contribution) + _whitelist_errors(state, contribution)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        slug = "system-type-not-allowed" if errors[0].type == "unknown_system_type" else None
        raise ProblemError(
            422,
            errors[0].msg + more,
            slug=slug or "settings-not-allowed",
            errors=errors[:_MAX_ERRORS],
        )
    wait = state.global_limiter.acquire("*")
    if wait > 0:
        retry = state.global_limiter.retry_after(wait)
        raise ProblemError(
            429,
            f"this server takes no more contributions right now; retry in {retry} s",
            slug="server-busy",
            headers={"Retry-After": str(retry)},
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
