"""How host detection reads the machine: an injectable command runner.

Detection never calls :mod:`subprocess` or opens files itself; it asks a
:class:`CommandRunner`. :class:`LocalRunner` asks this machine,
:class:`RecordedRunner` answers from a recording of another machine (tests,
bug reports) and :class:`RecordingRunner` captures what a run asked, so
``qdframe hal record`` can write a recording to attach to a bug report.

A recording is a TOML file::

    description = "MacBook Pro 14-inch (2023), M3 Pro"

    [commands]            # shell-joined argv -> stdout
    "uname -s" = "Darwin\\n"
    "sysctl -n hw.memsize" = "38654705664\\n"

    [files]               # path -> contents
    "/proc/meminfo" = "MemTotal: 16318480 kB\\n"

A command or file missing from the recording reads as unavailable.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from qdframe.errors import ConfigError

__all__ = ["CommandRunner", "LocalRunner", "RecordedRunner", "RecordingRunner"]

# sysctl and friends live in sbin directories that a user's PATH may omit.
_EXTRA_BIN_DIRS = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")


@runtime_checkable
class CommandRunner(Protocol):
    """Runs commands and reads files on the machine being detected."""

    def run(self, argv: Sequence[str]) -> str | None:
        """Standard output of ``argv``, or ``None`` when the program is missing,
        fails (non-zero exit) or times out."""

    def read(self, path: str) -> str | None:
        """Text of the file at ``path``, or ``None`` when it cannot be read."""


class LocalRunner:
    """Runs commands on this machine, with a timeout and the C locale.

    :param timeout_s: how long one command may take before it counts as
        unavailable.
    """

    def __init__(self, *, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s

    def run(self, argv: Sequence[str]) -> str | None:
        if not argv:
            return None
        program = shutil.which(argv[0]) or shutil.which(
            argv[0], path=os.pathsep.join(_EXTRA_BIN_DIRS)
        )
        if program is None:
            return None
        try:
            done = subprocess.run(
                [program, *argv[1:]],
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                check=False,
                # Numbers and messages in the C locale parse the same everywhere.
                env={**os.environ, "LC_ALL": "C"},
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    def read(self, path: str) -> str | None:
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None


class RecordedRunner:
    """Answers from a recording of a real machine.

    :param commands: shell-joined argv (``shlex.join``) → standard output.
    :param files: path → contents.
    :param description: what machine the recording is of.
    """

    def __init__(
        self,
        commands: Mapping[str, str] | None = None,
        files: Mapping[str, str] | None = None,
        *,
        description: str = "",
    ) -> None:
        self.commands = dict(commands or {})
        self.files = dict(files or {})
        self.description = description
        #: What was asked for and not in the recording, in order.
        self.unanswered: list[str] = []

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> RecordedRunner:
        """Load a recording file (format in the module docstring).

        :raises ConfigError: the file is not valid TOML or not a recording;
            the message names the file and the offending key.
        """
        source = str(path)
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", source=source) from None
        unknown = sorted(set(data) - {"description", "commands", "files"})
        if unknown:
            raise ConfigError(
                f"unknown key {unknown[0]!r}",
                source=source,
                key_path=unknown[0],
                allowed="description, commands, files",
            )
        tables: dict[str, dict[str, str]] = {}
        for table in ("commands", "files"):
            raw = data.get(table, {})
            if not isinstance(raw, dict):
                raise ConfigError("must be a table", source=source, key_path=table)
            for key, value in raw.items():
                if not isinstance(value, str):
                    raise ConfigError(
                        f"must be a string, got {type(value).__name__}",
                        source=source,
                        key_path=f"{table}.{key}",
                    )
            tables[table] = raw
        description = data.get("description", "")
        return cls(tables["commands"], tables["files"], description=str(description))

    def run(self, argv: Sequence[str]) -> str | None:
        key = shlex.join(argv)
        if key not in self.commands:
            self.unanswered.append(key)
            return None
        return self.commands[key]

    def read(self, path: str) -> str | None:
        if path not in self.files:
            self.unanswered.append(path)
            return None
        return self.files[path]


class RecordingRunner:
    """Passes every request to ``inner`` and remembers the answers.

    :param inner: the runner to record (usually a :class:`LocalRunner`).
    """

    def __init__(self, inner: CommandRunner) -> None:
        self.inner = inner
        self.commands: dict[str, str] = {}
        self.files: dict[str, str] = {}

    def run(self, argv: Sequence[str]) -> str | None:
        out = self.inner.run(argv)
        if out is not None:
            self.commands[shlex.join(argv)] = out
        return out

    def read(self, path: str) -> str | None:
        text = self.inner.read(path)
        if text is not None:
            self.files[path] = text
        return text

    def to_toml(self, *, description: str = "") -> str:
        """The recording, in the format :meth:`RecordedRunner.from_toml` reads."""
        import tomli_w

        document: dict[str, object] = {"description": description}
        document["commands"] = dict(sorted(self.commands.items()))
        document["files"] = dict(sorted(self.files.items()))
        return tomli_w.dumps(document, multiline_strings=True)
