"""Options of the numpy backend and the settings the tuner may vary."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from qdframe.plugin import PRECISIONS, ConfigError, TunableSetting

__all__ = ["BACKEND_NAME", "NumpyOptions", "tunable_settings"]

BACKEND_NAME = "numpy"

_FUSION_CHOICES = (1, 2, 3, 4, 5, 6)
_CHUNK_CHOICES = (14, 15, 16, 17, 18)


def _key(name: str) -> str:
    return f"backend.{BACKEND_NAME}.{name}"


@dataclass(frozen=True)
class NumpyOptions:
    """Validated options of :class:`qdframe_numpy.NumpyBackend`.

    :param precision: ``"complex128"`` (default) or ``"complex64"``.
    :param fusion_max_qubits: widest dense block gate fusion may build (1-8).
    :param max_memory_bytes: memory the backend may use; ``None`` for 80% of
        what is available when a circuit starts.
    :param chunk_qubits: log2 of the amplitudes a kernel handles at once
        (10-22); the default keeps a chunk in a core's L2 cache.
    :param threads: threads for large states; ``None`` for every available core.
    :param spill_to_disk: keep a statevector that does not fit ``max_memory_bytes``
        in a memory-mapped file instead of refusing the circuit (the kernel
        buffers must still fit; the file must fit the free disk space).
    :param spill_dir: folder for that file; ``None`` for the system's temporary
        folder. The file is removed when the circuit finishes or fails.
    """

    precision: str = "complex128"
    fusion_max_qubits: int = 5
    max_memory_bytes: int | None = None
    chunk_qubits: int = 16
    threads: int | None = None
    spill_to_disk: bool = False
    spill_dir: str | None = None

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"unknown precision {self.precision!r}",
                key_path=_key("precision"),
                allowed=", ".join(PRECISIONS),
            )
        _check_int(self.fusion_max_qubits, "fusion_max_qubits", 1, 8)
        _check_int(self.chunk_qubits, "chunk_qubits", 10, 22)
        if self.max_memory_bytes is not None:
            _check_int(self.max_memory_bytes, "max_memory_bytes", 1, None)
        if self.threads is not None:
            _check_int(self.threads, "threads", 1, 1024)
        if not isinstance(self.spill_to_disk, bool):
            raise ConfigError(
                f"invalid value {self.spill_to_disk!r}",
                key_path=_key("spill_to_disk"),
                allowed="true or false",
            )
        if self.spill_dir is not None and (
            not isinstance(self.spill_dir, str) or not self.spill_dir
        ):
            raise ConfigError(
                f"invalid value {self.spill_dir!r}",
                key_path=_key("spill_dir"),
                allowed="a folder path (a non-empty string)",
            )

    @classmethod
    def from_kwargs(cls, options: dict[str, Any]) -> NumpyOptions:
        """Build from keyword options, naming any unknown option.

        :raises ConfigError: an unknown option or an invalid value.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown option(s) {', '.join(map(repr, unknown))} for backend {BACKEND_NAME!r}",
                key_path=_key(unknown[0]),
                allowed=", ".join(sorted(known)),
            )
        return cls(**options)

    @property
    def itemsize(self) -> int:
        return PRECISIONS[self.precision]


def _check_int(value: object, name: str, low: int, high: int | None) -> None:
    valid = isinstance(value, int) and not isinstance(value, bool)
    if valid and value >= low and (high is None or value <= high):  # type: ignore[operator]
        return
    allowed = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"
    raise ConfigError(f"invalid value {value!r}", key_path=_key(name), allowed=allowed)


def tunable_settings() -> list[TunableSetting]:
    """Settings of this backend the tuner may vary."""
    tags = frozenset({"backend", BACKEND_NAME})
    return [
        TunableSetting(
            key=_key("precision"),
            choices=tuple(PRECISIONS),
            default="complex128",
            description="Amplitude precision of the numpy statevector (complex64 halves memory).",
            tags=tags,
        ),
        TunableSetting(
            key=_key("fusion_max_qubits"),
            choices=_FUSION_CHOICES,
            default=5,
            description="Widest dense block the numpy backend's gate fusion builds.",
            tags=tags,
        ),
        TunableSetting(
            key=_key("chunk_qubits"),
            choices=_CHUNK_CHOICES,
            default=16,
            description="log2 of amplitudes per kernel chunk (cache blocking).",
            tags=tags,
        ),
    ]
