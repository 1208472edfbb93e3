"""Applying shared settings: whitelisted keys and values only, every change listed.

Shared data is input from strangers. Nothing is applied unless a plugin of
this qdframe declared the key and the value is one of its declared choices;
each change (and each refusal) is returned so that it can be shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ValidationError

from qdframe.config import SystemConfig
from qdframe.network.whitelist import Whitelist, json_value, same_value

__all__ = ["SettingChange", "apply_settings", "current_settings"]

_Target = TypeVar("_Target", SystemConfig, dict[str, Any])


@dataclass(frozen=True)
class SettingChange:
    """One setting that was changed, or refused and why."""

    key: str
    old: Any
    new: Any
    applied: bool
    reason: str = ""

    def describe(self) -> str:
        """A line for the user, e.g. ``Set acceleration.precision to 'complex64' (was ...)``."""
        if self.applied:
            return f"Set {self.key} to {self.new!r} (was {self.old!r})"
        return f"Not applied: {self.key} = {self.new!r}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "old": self.old,
            "new": self.new,
            "applied": self.applied,
            "reason": self.reason or None,
        }


def _plain(value: Any) -> Any:
    try:
        return json_value(value)
    except TypeError:
        return value


def _config_owner(config: BaseModel, key: str) -> tuple[BaseModel, str] | None:
    """The model holding ``key`` (a dotted path) and the field name, if it exists."""
    parts = key.split(".")
    owner: Any = config
    for part in parts[:-1]:
        if not isinstance(owner, BaseModel) or part not in type(owner).model_fields:
            return None
        owner = getattr(owner, part)
    if not isinstance(owner, BaseModel) or parts[-1] not in type(owner).model_fields:
        return None
    return owner, parts[-1]


def _refusal(key: str, value: Any, whitelist: Whitelist) -> str | None:
    problems = whitelist.check({key: value})
    return problems[0].message if problems else None


def _apply_config(
    config: SystemConfig, settings: Mapping[str, Any], whitelist: Whitelist
) -> tuple[SystemConfig, list[SettingChange]]:
    updated = config.model_copy(deep=True)
    changes: list[SettingChange] = []
    for key in sorted(settings):
        value = settings[key]
        refused = _refusal(key, value, whitelist)
        located = _config_owner(updated, key)
        old = _plain(getattr(located[0], located[1])) if located else None
        if refused is not None:
            changes.append(SettingChange(key, old, value, False, refused))
            continue
        if located is None and key.startswith("backend.") and key.count(".") == 2:
            # "backend.<name>.<option>": an option for that backend's factory.
            _, backend, option = key.split(".")
            options = updated.acceleration.backend_options
            before = options.get(backend, {}).get(option)
            if not same_value(before, value):
                updated.acceleration.backend_options = {
                    **options,
                    backend: {**options.get(backend, {}), option: value},
                }
                changes.append(SettingChange(key, before, value, True))
            continue
        if located is None:
            changes.append(
                SettingChange(
                    key, None, value, False, "not a configuration field; applies as a setting only"
                )
            )
            continue
        if same_value(old, value):
            continue
        owner, name = located
        try:
            setattr(owner, name, value)
        except ValidationError as exc:
            message = exc.errors()[0].get("msg", str(exc))
            changes.append(SettingChange(key, old, value, False, f"invalid here: {message}"))
            continue
        changes.append(SettingChange(key, old, value, True))
    return updated, changes


def _apply_dict(
    target: Mapping[str, Any], settings: Mapping[str, Any], whitelist: Whitelist
) -> tuple[dict[str, Any], list[SettingChange]]:
    updated: dict[str, Any] = dict(target)
    changes: list[SettingChange] = []
    for key in sorted(settings):
        value = settings[key]
        old = updated.get(key)
        refused = _refusal(key, value, whitelist)
        if refused is not None:
            changes.append(SettingChange(key, old, value, False, refused))
            continue
        if key in updated and same_value(old, value):
            continue
        updated[key] = value
        changes.append(SettingChange(key, old, value, True))
    return updated, changes


@overload
def apply_settings(
    target: SystemConfig, settings: Mapping[str, Any], whitelist: Whitelist
) -> tuple[SystemConfig, list[SettingChange]]: ...


@overload
def apply_settings(
    target: Mapping[str, Any], settings: Mapping[str, Any], whitelist: Whitelist
) -> tuple[dict[str, Any], list[SettingChange]]: ...


def apply_settings(
    target: SystemConfig | Mapping[str, Any],
    settings: Mapping[str, Any],
    whitelist: Whitelist,
) -> tuple[SystemConfig | dict[str, Any], list[SettingChange]]:
    """Apply whitelisted ``settings`` to a copy of ``target``.

    :param target: a :class:`SystemConfig` (keys are dotted field paths; keys
        that name no field are refused) or a settings dict (dotted key → value,
        the shape of ``recommended_settings``).
    :param settings: key → value, e.g. a shared ``recommended_settings``.
    :param whitelist: what may be applied.
    :returns: the updated copy and one :class:`SettingChange` per key that was
        changed or refused (keys already at the value are not listed).
    """
    if isinstance(target, SystemConfig):
        return _apply_config(target, settings, whitelist)
    return _apply_dict(target, settings, whitelist)


def current_settings(
    whitelist: Whitelist,
    config: SystemConfig | None = None,
    applied: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The value each whitelisted key has now.

    From ``applied`` (settings applied earlier) first, then the configuration
    field of the same path, then the declared default.
    """
    values: dict[str, Any] = {}
    for key in whitelist.choices:
        if applied is not None and key in applied:
            values[key] = applied[key]
            continue
        located = _config_owner(config, key) if config is not None else None
        if located is not None:
            values[key] = _plain(getattr(located[0], located[1]))
        elif key in whitelist.defaults:
            values[key] = whitelist.defaults[key]
    return values
