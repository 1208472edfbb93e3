"""Building a configuration from a file plus command-line overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["config_from_options"]


def _environment_overrides() -> bool:
    """Whether ``QDFRAME_<TABLE>__<KEY>`` variables set configuration (as for ``config show``)."""
    import os

    from qdframe.config import ENV_PREFIX

    return any(name.startswith(ENV_PREFIX) and "__" in name for name in os.environ)


def config_from_options(
    config_file: Path | None,
    *,
    distributed: dict[str, Any] | None = None,
    acceleration: dict[str, Any] | None = None,
    resources: dict[str, Any] | None = None,
) -> Any:
    """The configuration of ``config_file`` (or the defaults) with command-line overrides.

    Options left at ``None`` change nothing. Returns ``None`` when there is no
    file and no override; either way the network size is completed for the
    circuit by :func:`qdframe.sizing.sized_config`.
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
    if config_file is None and not any(overrides.values()) and not _environment_overrides():
        return None
    # Only what the file, the environment and the options set is carried over,
    # so a network size nobody gave is still filled in for the circuit
    # (qdframe.sizing) rather than taken from the model's 1,024-node default.
    data = load_config(config_file).model_dump(mode="json", exclude_unset=True)
    for table, values in overrides.items():
        if values:
            data.setdefault(table, {}).update(values)
    return config_from_mapping(data, source=str(config_file) if config_file else "command line")
