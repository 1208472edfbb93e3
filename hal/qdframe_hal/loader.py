"""Hardware profiles from TOML data files.

A profile file holds an optional ``[defaults]`` table merged under every
profile and one ``[profiles.<system_type>]`` table per profile::

    [defaults]
    vendor = "Apple"
    family = "apple_silicon"
    os = "macos"
    cpu_arch = "arm64"
    family_patterns = ["Apple M*"]

    [profiles.apple_silicon_m3_pro]
    cpu_model = "Apple M3 Pro"
    brand_patterns = ["Apple M3 Pro"]
    performance_cores = 6
    efficiency_cores = 6
    memory_options_gib = [18, 36]

    [[profiles.apple_silicon_m3_pro.gpus]]
    vendor = "Apple"
    name = "Apple M3 Pro GPU"
    cores = 18
    unified_memory = true

Keys are the fields of :class:`~qdframe_hal.profile.HardwareProfile` (and of
its GPUs and variants), with three conveniences: ``memory_gib`` and
``memory_options_gib`` may replace the ``*_bytes`` keys (1 GiB = 2**30
bytes), ``cores`` defaults to performance + efficiency cores, and
``memory_bytes`` defaults to the smallest memory option. The table name is
the ``system_type``. Tables in ``[defaults]`` (``setting_overrides``) merge
key by key with the profile's own.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from qdframe.errors import ConfigError
from qdframe_hal.profile import GPUInfo, HardwareProfile, ProfileVariant

__all__ = ["builtin_profiles", "load_profiles", "load_profiles_text", "parse_profiles"]

_GIB = 2**30
_TOP_LEVEL = ("defaults", "profiles")
_UNIT_KEYS = {"memory_gib": "memory_bytes", "memory_options_gib": "memory_options_bytes"}
_FILLED = (("cores",), ("memory_bytes",))
_DERIVED = {
    "capabilities": "it is derived from memory_bytes and gpus",
    "recommended_settings": "it is derived; set setting_overrides instead",
}


def load_profiles(path: str | Path) -> tuple[HardwareProfile, ...]:
    """Load and validate every profile in a TOML file.

    :raises ConfigError: the file is unreadable, not TOML, or a profile is
        invalid; the message names the file and the dotted key.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read profile file: {exc.strerror}", source=source) from None
    return load_profiles_text(text, source=source)


def load_profiles_text(text: str, *, source: str) -> tuple[HardwareProfile, ...]:
    """Like :func:`load_profiles` for TOML text; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", source=source) from None
    return parse_profiles(data, source=source)


def parse_profiles(data: Mapping[str, Any], *, source: str) -> tuple[HardwareProfile, ...]:
    """Validate already-parsed profile data (the TOML document as a mapping)."""
    for key in data:
        if key not in _TOP_LEVEL:
            raise ConfigError(
                "unknown key", source=source, key_path=key, allowed=", ".join(_TOP_LEVEL)
            )
    defaults = _table(data.get("defaults", {}), source, "defaults")
    profiles = _table(data.get("profiles", {}), source, "profiles")
    if not profiles:
        raise ConfigError("no profiles defined", source=source, key_path="profiles")
    result = []
    for name, raw in profiles.items():
        table = _table(raw, source, f"profiles.{name}")
        result.append(_build(name, table, defaults, source))
    return tuple(result)


@functools.cache
def builtin_profiles() -> tuple[HardwareProfile, ...]:
    """The generic profiles shipped with the HAL (``qdframe_hal/data/*.toml``).

    :raises ConfigError: a data file is invalid or two define the same
        ``system_type`` (a packaging bug).
    """
    seen: dict[str, str] = {}
    found: list[HardwareProfile] = []
    data_dir = resources.files("qdframe_hal").joinpath("data")
    for item in sorted(data_dir.iterdir(), key=lambda i: i.name):
        if not item.name.endswith(".toml"):
            continue
        source = f"qdframe_hal/data/{item.name}"
        for profile in load_profiles_text(item.read_text(encoding="utf-8"), source=source):
            if profile.system_type in seen:
                raise ConfigError(
                    f"profile defined twice (also in {seen[profile.system_type]})",
                    source=source,
                    key_path=f"profiles.{profile.system_type}",
                )
            seen[profile.system_type] = source
            found.append(profile)
    return tuple(found)


def _table(value: Any, source: str, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(
            f"must be a table, got {type(value).__name__}", source=source, key_path=path
        )
    return value


def _build(
    name: str, table: dict[str, Any], defaults: dict[str, Any], source: str
) -> HardwareProfile:
    path = f"profiles.{name}"
    merged: dict[str, Any] = {}
    from_defaults: set[str] = set()
    for key, value in defaults.items():
        if key not in table:
            merged[key] = value
            from_defaults.add(key)
    for key, value in table.items():
        if isinstance(value, dict) and isinstance(defaults.get(key), dict):
            value = {**defaults[key], **value}
        merged[key] = value

    for key, why in _DERIVED.items():
        if key in merged:
            where = "defaults" if key in from_defaults else path
            raise ConfigError(f"cannot be set: {why}", source=source, key_path=f"{where}.{key}")
    if "system_type" in merged and merged["system_type"] != name:
        raise ConfigError(
            f"system_type {merged['system_type']!r} differs from the table name {name!r}; "
            "omit it (the table name is the system_type)",
            source=source,
            key_path=f"{path}.system_type",
        )
    merged["system_type"] = name
    _convert_units(merged, source, path)
    for kind in ("gpus", "variants"):
        items = merged.get(kind)
        if isinstance(items, list):
            # Copies, so a list shared through [defaults] is never converted twice.
            merged[kind] = items = [dict(i) if isinstance(i, dict) else i for i in items]
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    _convert_units(item, source, f"{path}.{kind}.{index}")
    _fill_defaults(merged)
    try:
        return HardwareProfile.model_validate(merged)
    except ValidationError as exc:
        raise _config_error(exc, source, path, from_defaults) from None


def _convert_units(table: dict[str, Any], source: str, path: str) -> None:
    for gib_key, bytes_key in _UNIT_KEYS.items():
        if gib_key not in table:
            continue
        if bytes_key in table:
            raise ConfigError(
                f"give either {gib_key} or {bytes_key}, not both",
                source=source,
                key_path=f"{path}.{gib_key}",
            )
        value = table.pop(gib_key)
        if gib_key == "memory_options_gib":
            valid = isinstance(value, list) and all(_positive_number(v) for v in value)
            shape = "a list of positive numbers"
        else:
            valid = _positive_number(value)
            shape = "a positive number"
        if not valid:
            raise ConfigError(
                f"must be {shape} (GiB), got {value!r}", source=source, key_path=f"{path}.{gib_key}"
            )
        table[bytes_key] = (
            [round(v * _GIB) for v in value] if isinstance(value, list) else round(value * _GIB)
        )


def _positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _fill_defaults(merged: dict[str, Any]) -> None:
    perf, eff = merged.get("performance_cores"), merged.get("efficiency_cores", 0)
    if "cores" not in merged and isinstance(perf, int) and isinstance(eff, int):
        merged["cores"] = perf + eff
    options = merged.get("memory_options_bytes")
    if (
        "memory_bytes" not in merged
        and isinstance(options, list)
        and options
        and all(isinstance(o, int) for o in options)
    ):
        merged["memory_bytes"] = min(options)


def _config_error(
    exc: ValidationError, source: str, path: str, from_defaults: set[str]
) -> ConfigError:
    # "cores"/"memory_bytes" missing only because the loader could not fill
    # them from an invalid neighbour would hide the real problem.
    errors = [
        e for e in exc.errors() if not (e["type"] == "missing" and e["loc"] in _FILLED)
    ] or exc.errors()
    first = errors[0]
    loc = [str(part) for part in first["loc"]]
    where = "defaults" if loc and loc[0] in from_defaults else path
    key_path = ".".join([where, *loc]) if loc else where
    allowed = None
    if first["type"] == "extra_forbidden":
        message = "unknown key"
        allowed = ", ".join(_allowed_keys(loc))
    elif first["type"] == "missing":
        message = "missing required key"
    else:
        message = first["msg"]
        if first["type"] != "value_error" and "input" in first:
            message += f" (got {first['input']!r})"
    if len(errors) > 1:
        message += f"; and {len(errors) - 1} more problem(s) in this profile"
    return ConfigError(message, source=source, key_path=key_path, allowed=allowed)


def _allowed_keys(loc: list[str]) -> list[str]:
    model: type[HardwareProfile | GPUInfo | ProfileVariant] = HardwareProfile
    if len(loc) > 1 and loc[0] == "gpus":
        model = GPUInfo
    elif len(loc) > 1 and loc[0] == "variants":
        model = ProfileVariant
    names = [n for n in model.model_fields if n != "system_type"]
    names += [g for g, b in _UNIT_KEYS.items() if b in model.model_fields]
    return sorted(names)
