"""Running the server with uvicorn, without logging client addresses."""

from __future__ import annotations

from typing import Any

from qdframe.network.server.settings import ServerSettings

__all__ = ["LOG_CONFIG", "serve"]

#: uvicorn's logging without its access logger (whose lines carry the client
#: address); qdframe's own access log records method, path, status and time.
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "qdframe.network": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "qdframe.network.access": {"level": "WARNING"},
    },
}


def serve(
    settings: ServerSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
) -> None:
    """Serve until interrupted (``settings.access_log`` turns the access log on)."""
    import uvicorn

    from qdframe.network.server.app import create_app

    config = dict(LOG_CONFIG)
    loggers = dict(config["loggers"])
    loggers["qdframe.network.access"] = {"level": "INFO" if settings.access_log else "WARNING"}
    config["loggers"] = loggers
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        access_log=False,
        log_config=config,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
