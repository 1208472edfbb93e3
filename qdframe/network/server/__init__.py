"""The sharing server (needs the ``server`` extra: fastapi, uvicorn, sqlalchemy, alembic).

Nothing here is imported by ``import qdframe`` or by the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from qdframe.network.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "serve"]


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """Build the FastAPI application (see :mod:`qdframe.network.server.app`)."""
    from qdframe.network.server.app import create_app as _create

    return _create(settings)


def serve(settings: ServerSettings, *, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the server with uvicorn until interrupted."""
    from qdframe.network.server.run import serve as _serve

    _serve(settings, host=host, port=port)


def __getattr__(name: str) -> Any:
    if name == "ServerSettings":
        from qdframe.network.server.settings import ServerSettings

        return ServerSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
