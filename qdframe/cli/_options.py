"""Building a configuration from a file plus command-line overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["config_from_options"]


def config_from_options(
    config_file: Path | None,
    *,
    distributed: dict[str, Any] | None = None,
    acceleration: dict[str, Any] | None = None,
    resources: dict[str, Any] | None = None,
) -> Any:
    """The configuration of ``config_file`` (or the defaults) with command-line overrides.

    Options left at ``None`` change nothing. Returns ``None`` when there is no
    file and no override, so the caller can use its own default network.
    """
    from qdframe.config import config_from_mapping, load_config

    blocks = {
        "distributed": distributed or {},
        "acceleration": acceleration or {},
        "resources": resources or {},
    }
    overrides = {
        table: {k: v for k, v in values.items() if v is not None}
        for table, values in blocks.items()
    }
    if config_file is None and not any(overrides.values()):
        return None
    data = load_config(config_file).model_dump(mode="json")
    for table, values in overrides.items():
        data[table].update(values)
    if config_file is None and "network_topology" in overrides["distributed"]:
        data["distributed"]["topology_params"] = {}
    return config_from_mapping(data, source=str(config_file) if config_file else "command line")
