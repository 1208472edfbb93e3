"""The settings whitelist: which keys and values may be shared and applied.

Plugins declare tunable settings (:class:`qdframe.settings.TunableSetting`);
for one qdframe version those declarations are the whitelist. The server
rejects contributions outside it and the client applies nothing outside it.
A whitelist can be written to and read from JSON so that a server can accept
results of a qdframe version it does not run itself.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qdframe._version import __version__
from qdframe.errors import ConfigError

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins
    from qdframe.settings import TunableSetting

__all__ = [
    "RESULT_OPTIONS",
    "RESULT_TAG",
    "SettingProblem",
    "Whitelist",
    "changes_results",
    "json_value",
    "same_value",
]

#: Option names that choose a numerical precision or method: another choice
#: can give other amplitudes, so such a setting is applied only after this
#: host checked that its results still agree.
RESULT_OPTIONS = frozenset({"precision", "method", "approximate", "approximation", "truncation"})
#: A tag a plugin puts on a :class:`~qdframe.settings.TunableSetting` whose
#: choices can change results although its name does not say so.
RESULT_TAG = "changes_results"


def changes_results(key: str) -> bool:
    """Whether the setting's name marks it as one that can change numerical results."""
    option = key.rsplit(".", 1)[-1]
    return option in RESULT_OPTIONS or option.startswith("approx") or "truncation" in option


_JSON_SCALARS = (bool, int, float, str, type(None))


def json_value(value: Any) -> Any:
    """``value`` as a JSON scalar (enums by value); raises ``TypeError`` otherwise."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, _JSON_SCALARS):
        return value
    raise TypeError(f"{value!r} is not a JSON scalar")


def same_value(a: Any, b: Any) -> bool:
    """Equality that does not confuse ``True`` with ``1`` (JSON keeps them apart)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if a is None or b is None:
        return a is None and b is None
    return bool(type(a) is type(b) or (_is_number(a) and _is_number(b))) and bool(a == b)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class SettingProblem:
    """Why one setting was refused."""

    key: str
    message: str


@dataclass(frozen=True)
class Whitelist:
    """Allowed setting keys and values for one qdframe version.

    :param qdframe_version: the version the declarations come from.
    :param choices: key → allowed values (JSON scalars).
    :param defaults: key → the value used when nothing is tuned.
    :param result_keys: keys tagged ``changes_results`` by their plugin
        (besides those whose name says so, see :func:`changes_results`).
    """

    qdframe_version: str
    choices: Mapping[str, tuple[Any, ...]]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    result_keys: frozenset[str] = frozenset()

    @classmethod
    def from_settings(
        cls, settings: Iterable[TunableSetting], *, qdframe_version: str = __version__
    ) -> Whitelist:
        """Build the whitelist from declared settings; non-JSON choices are left out."""
        choices: dict[str, tuple[Any, ...]] = {}
        defaults: dict[str, Any] = {}
        tagged: set[str] = set()
        for setting in settings:
            if RESULT_TAG in setting.tags:
                tagged.add(setting.key)
            allowed = []
            for choice in setting.choices:
                try:
                    allowed.append(json_value(choice))
                except TypeError:
                    continue  # cannot travel as JSON, so it can never be shared
            if allowed:
                choices[setting.key] = tuple(allowed)
                with contextlib.suppress(TypeError):
                    defaults[setting.key] = json_value(setting.default)
        return cls(qdframe_version, choices, defaults, frozenset(tagged & set(choices)))

    @classmethod
    def from_plugins(cls, plugins: LoadedPlugins) -> Whitelist:
        """The whitelist of the settings registered in ``plugins``."""
        registry = plugins.registries.tunable_settings
        return cls.from_settings(registry.get(name) for name in registry.names())

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: str = "<whitelist>") -> Whitelist:
        """Read the document written by :meth:`to_json`.

        :raises ConfigError: the document is not a whitelist.
        """
        version = data.get("qdframe_version")
        settings = data.get("settings")
        if not isinstance(version, str) or not isinstance(settings, Mapping):
            raise ConfigError(
                "not a whitelist document",
                source=source,
                allowed='{"qdframe_version": "...", "settings": {"key": {"choices": [...]}}}',
            )
        choices: dict[str, tuple[Any, ...]] = {}
        defaults: dict[str, Any] = {}
        tagged: set[str] = set()
        for key, entry in settings.items():
            if not isinstance(entry, Mapping) or not isinstance(entry.get("choices"), list):
                raise ConfigError(
                    "each setting needs a list of choices", source=source, key_path=str(key)
                )
            choices[str(key)] = tuple(json_value(v) for v in entry["choices"])
            if "default" in entry:
                defaults[str(key)] = json_value(entry["default"])
            if entry.get(RESULT_TAG) is True:
                tagged.add(str(key))
        return cls(version, choices, defaults, frozenset(tagged))

    @classmethod
    def load(cls, path: Path) -> Whitelist:
        """Read a whitelist JSON file.

        :raises ConfigError: the file is missing or malformed.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("whitelist file not found", source=str(path)) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"not valid JSON: {exc}", source=str(path)) from None
        if not isinstance(data, Mapping):
            raise ConfigError("expected a JSON object", source=str(path))
        return cls.from_json(data, source=str(path))

    def to_json(self) -> dict[str, Any]:
        """The whitelist as a JSON document."""
        settings: dict[str, Any] = {}
        for key in sorted(self.choices):
            entry: dict[str, Any] = {"choices": list(self.choices[key])}
            if key in self.defaults:
                entry["default"] = self.defaults[key]
            if key in self.result_keys:
                entry[RESULT_TAG] = True
            settings[key] = entry
        return {"qdframe_version": self.qdframe_version, "settings": settings}

    def changes_results(self, key: str) -> bool:
        """Whether ``key`` can change numerical results (by its tag or its name)."""
        return key in self.result_keys or changes_results(key)

    def allows(self, key: str, value: Any) -> bool:
        """Whether ``key`` is declared and ``value`` is one of its choices."""
        allowed = self.choices.get(key)
        return allowed is not None and any(same_value(value, c) for c in allowed)

    def check(self, settings: Mapping[str, Any]) -> list[SettingProblem]:
        """Every key or value in ``settings`` that is not allowed, with what would be."""
        problems: list[SettingProblem] = []
        for key, value in settings.items():
            allowed = self.choices.get(key)
            if allowed is None:
                known = ", ".join(sorted(self.choices)) or "none"
                problems.append(
                    SettingProblem(
                        key,
                        f"setting {key!r} is not declared by any plugin of qdframe "
                        f"{self.qdframe_version}; declared settings: {known}",
                    )
                )
            elif not any(same_value(value, c) for c in allowed):
                problems.append(
                    SettingProblem(
                        key,
                        f"value {value!r} is not allowed for {key!r}; "
                        f"allowed: {', '.join(repr(c) for c in allowed)}",
                    )
                )
        return problems
