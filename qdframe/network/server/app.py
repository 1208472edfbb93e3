"""The FastAPI application of the sharing server."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi

from qdframe._version import __version__
from qdframe.network.schemas import Problem
from qdframe.network.server.limits import AccessLogMiddleware, BodyLimitMiddleware
from qdframe.network.server.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from qdframe.network.server.routes import router
from qdframe.network.server.settings import ServerSettings
from qdframe.network.server.state import ServerState
from qdframe.network.server.systems import accepted_system_types
from qdframe.network.whitelist import Whitelist

__all__ = ["create_app"]

_DESCRIPTION = """\
Installations share the qdframe settings that made their workloads fastest on
their hardware. Contributions are anonymous (an identity this server issued at
registration, no host name, user name or address); the server stores no IP
address. A contribution needs `Authorization: Bearer <token>` from
`POST /api/network/register`. Errors are `application/problem+json` (RFC 9457).
"""


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """Build the server application; the database is opened when it starts.

    :param settings: storage, limits and aggregation settings (defaults: an
        SQLite file under the user's data directory, 3 contributors).
    """
    resolved = settings if settings is not None else ServerSettings()
    if __version__ not in resolved.whitelists:
        # The server's own version accepts what its plugins declare.
        from qdframe.plugins import default_plugins

        whitelists = {**resolved.whitelists, __version__: Whitelist.from_plugins(default_plugins())}
        resolved = dataclasses.replace(resolved, whitelists=whitelists)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ServerState(resolved)
        await run_in_threadpool(state.open)
        app.state.qdframe = state
        try:
            yield
        finally:
            await run_in_threadpool(state.close)

    app = FastAPI(
        title="qdframe optimization-sharing network",
        version=__version__,
        description=_DESCRIPTION,
        docs_url=None,  # the interactive docs load scripts from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(router)

    if resolved.access_log:
        app.add_middleware(AccessLogMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=resolved.max_body_bytes)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _document_problems(schema)
            _document_whitelists(schema, resolved.whitelists)
            _document_identities(schema, accepted_system_types(resolved.system_types))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _document_problems(schema: dict[str, Any]) -> None:
    """Describe every error response as a problem document, and add 413 to bodies."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in problem_schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components["Problem"] = problem_schema
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            if method in {"post", "put", "patch"}:
                responses.setdefault("413", {"description": "Request body too large"})
            if "requestBody" in operation:
                responses.setdefault("400", {"description": "Request body is not readable"})
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    if status == "422":
                        response["description"] = "Invalid request"
                    response["content"] = content


def _settings_schema(whitelist: Whitelist, limit: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {"enum": list(choices)} for key, choices in whitelist.choices.items()},
        "additionalProperties": False,
        "maxProperties": limit,
    }


def _document_whitelists(schema: dict[str, Any], whitelists: Mapping[str, Whitelist]) -> None:
    """Narrow the contribution schema to what this server accepts.

    A contribution is valid only for a qdframe version the server has a
    whitelist for, with settings from that whitelist; saying so in the schema
    lets clients (and schema-driven tests) know exactly what will be accepted.
    """
    components = schema["components"]["schemas"]
    base = components.get("ContributionIn")
    workload = components.get("WorkloadContribution")
    if base is None or workload is None or not whitelists:
        return
    limit = base["properties"]["settings"].get("maxProperties", 64)
    variants = []
    for version in sorted(whitelists):
        settings = _settings_schema(whitelists[version], limit)
        variant = copy.deepcopy(base)
        variant["title"] = f"ContributionIn (qdframe {version})"
        variant["properties"]["qdframe_version"] = {
            "type": "string",
            "enum": [version],
            "description": base["properties"]["qdframe_version"].get("description", ""),
        }
        variant["properties"]["settings"] = settings
        per_workload = copy.deepcopy(workload)
        per_workload["properties"]["settings"] = settings
        workloads = variant["properties"]["workloads"]
        workloads["additionalProperties"] = per_workload
        variants.append(variant)
    components["ContributionIn"] = variants[0] if len(variants) == 1 else {"oneOf": variants}


def _document_identities(schema: dict[str, Any], system_types: frozenset[str]) -> None:
    """Declare the bearer identity contributions need and the system types accepted."""
    components = schema["components"]
    components.setdefault("securitySchemes", {})["identity"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The token POST /api/network/register issued to this installation.",
    }
    contribute = schema["paths"].get("/api/network/contribute", {}).get("post")
    if contribute is not None:
        contribute["security"] = [{"identity": []}]
        contribute["parameters"] = [
            p for p in contribute.get("parameters", []) if p.get("name") != "Authorization"
        ]
    contribution = components["schemas"].get("ContributionIn", {})
    for variant in contribution.get("oneOf", [contribution]):
        if "properties" in variant:
            variant["properties"]["system_type"] = {
                "type": "string",
                "enum": sorted(system_types),
                "description": "HAL profile id or generic type this server accepts.",
            }
