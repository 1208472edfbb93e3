"""Options of the Aer backend, and how a :class:`SystemConfig` maps to them.

The backend takes Aer's own option names (``fusion_max_qubit``,
``max_memory_mb``, ``cuStateVec_enable``, ...) together with qdframe's
(``precision="complex64"``, ``max_memory_bytes``), so that
:func:`aer_options_from_config` output, tuned ``backend.aer.*`` settings and
hand-written options all go through one validated path.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qdframe.plugin import PRECISIONS, ConfigError, OptimizationLevel, SystemConfig, TunableSetting

if TYPE_CHECKING:
    from qdframe.plugin import HostInfo

__all__ = [
    "BACKEND_NAME",
    "DEVICES",
    "METHODS",
    "STATEVECTOR_METHODS",
    "AerOptions",
    "aer_options_from_config",
    "tunable_settings",
]

BACKEND_NAME = "aer"

#: Simulation methods the backend offers (Aer's names).
METHODS: tuple[str, ...] = (
    "automatic",
    "statevector",
    "density_matrix",
    "matrix_product_state",
    "stabilizer",
)

#: Methods that give the final statevector for ``shots=0``.
STATEVECTOR_METHODS: tuple[str, ...] = ("automatic", "statevector", "matrix_product_state")

#: ``auto``: the GPU when usable, else the CPU (noted in results).
DEVICES: tuple[str, ...] = ("auto", "cpu", "gpu")

_MIB = 2**20
_AER_PRECISION = {"complex128": "double", "complex64": "single"}
_FROM_AER_PRECISION = {aer: ours for ours, aer in _AER_PRECISION.items()}

#: Gate fusion per ``[acceleration] optimization_level``: widest fused block.
FUSION_BY_LEVEL: dict[OptimizationLevel, int | None] = {
    OptimizationLevel.NONE: None,
    OptimizationLevel.BASIC: 2,
    OptimizationLevel.MODERATE: 4,
    OptimizationLevel.AGGRESSIVE: 5,
}

# Aer options that qdframe sets itself from run() arguments; passing them as
# backend options would make results depend on two sources.
_RUN_OWNED = frozenset({"shots", "memory", "noise_model", "seed_simulator", "method", "device"})


def _key(name: str) -> str:
    return f"backend.{BACKEND_NAME}.{name}"


def _check_int(value: object, name: str, low: int, high: int | None = None) -> int:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if is_int and value >= low and (high is None or value <= high):  # type: ignore[operator]
        return value  # type: ignore[return-value]
    allowed = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"
    raise ConfigError(f"invalid value {value!r}", key_path=_key(name), allowed=allowed)


def _choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    text = value.lower() if isinstance(value, str) else value
    if text not in choices:
        raise ConfigError(
            f"unknown {name} {value!r}", key_path=_key(name), allowed=", ".join(choices)
        )
    return str(text)


@dataclass(frozen=True)
class AerOptions:
    """Validated options of :class:`qdframe_aer.AerBackend`.

    :param method: one of :data:`METHODS`.
    :param device: ``"auto"``, ``"cpu"`` or ``"gpu"`` (see :mod:`qdframe_aer.device`).
    :param require_gpu: fail with :class:`qdframe.HardwareError` instead of
        falling back to the CPU.
    :param precision: ``"complex128"`` or ``"complex64"``.
    :param max_memory_bytes: memory the simulation may use; ``None`` for 80%
        of what is available when the backend is created.
    :param max_parallel_threads: Aer's thread count; 0 lets Aer use every core.
    :param fusion_enable: gate fusion on or off.
    :param fusion_max_qubit: widest fused gate (1-8).
    :param fusion_threshold: fusion applies from this many qubits on.
    :param cuStateVec_enable: use NVIDIA cuStateVec on the GPU where the
        installed Aer has it.
    :param extra: further Aer options passed through unchanged.
    """

    method: str = "automatic"
    device: str = "auto"
    require_gpu: bool = False
    precision: str = "complex128"
    max_memory_bytes: int | None = None
    max_parallel_threads: int = 0
    fusion_enable: bool = True
    fusion_max_qubit: int = 5
    fusion_threshold: int = 14
    cuStateVec_enable: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _choice(self.method, "method", METHODS)
        _choice(self.device, "device", DEVICES)
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"unknown precision {self.precision!r}",
                key_path=_key("precision"),
                allowed=", ".join([*PRECISIONS, *_FROM_AER_PRECISION]),
            )
        if self.max_memory_bytes is not None:
            _check_int(self.max_memory_bytes, "max_memory_bytes", 1)
        _check_int(self.max_parallel_threads, "max_parallel_threads", 0)
        _check_int(self.fusion_max_qubit, "fusion_max_qubit", 1, 8)
        _check_int(self.fusion_threshold, "fusion_threshold", 1)
        if self.device == "cpu" and self.require_gpu:
            raise ConfigError(
                "device 'cpu' contradicts require_gpu=True",
                key_path=_key("device"),
                allowed="'auto' or 'gpu' with require_gpu=True",
            )

    @classmethod
    def from_kwargs(cls, options: Mapping[str, Any]) -> AerOptions:
        """Build from keyword options in qdframe's or Aer's spelling.

        :raises ConfigError: an unknown option, an option qdframe sets from
            ``run()`` arguments, or an invalid value.
        """
        from qiskit_aer import AerSimulator

        values = dict(options)
        if "precision" in values and values["precision"] in _FROM_AER_PRECISION:
            values["precision"] = _FROM_AER_PRECISION[values["precision"]]
        if "max_memory_mb" in values:
            if "max_memory_bytes" in values:
                raise ConfigError(
                    "give max_memory_bytes or max_memory_mb, not both",
                    key_path=_key("max_memory_mb"),
                )
            values["max_memory_bytes"] = _check_int(values.pop("max_memory_mb"), "max_memory_mb", 1)
            values["max_memory_bytes"] *= _MIB
        for name in ("method", "device"):
            if isinstance(values.get(name), str):
                values[name] = values[name].lower()
        own = {f for f in cls.__dataclass_fields__ if f != "extra"}
        aer_known = set(AerSimulator._default_options().__dict__) - _RUN_OWNED
        extra = {k: values.pop(k) for k in list(values) if k not in own and k in aer_known}
        unknown = sorted(k for k in values if k not in own)
        if unknown:
            raise ConfigError(
                f"unknown option(s) {', '.join(map(repr, unknown))} for backend {BACKEND_NAME!r}",
                key_path=_key(unknown[0]),
                allowed=f"qdframe options {', '.join(sorted(own))} or Aer options "
                f"{', '.join(sorted(aer_known - own - {'max_memory_mb'}))}",
            )
        return cls(**values, extra=extra)

    @property
    def aer_precision(self) -> str:
        """Aer's spelling of :attr:`precision` (``"double"`` or ``"single"``)."""
        return _AER_PRECISION[self.precision]


def _thread_count(host: HostInfo | None) -> int:
    if host is None:
        return _this_host_threads()
    for count in (host.performance_cores, host.cores, host.logical_cpus):
        if count:
            return count
    return os.cpu_count() or 1


@functools.cache
def _this_host_threads() -> int:
    try:
        from qdframe.plugin import detect_host

        return _thread_count(detect_host())
    except Exception:  # detection is a best guess; Aer still needs a thread count
        return os.cpu_count() or 1


def aer_options_from_config(config: SystemConfig, host: HostInfo | None = None) -> dict[str, Any]:
    """Aer backend options that carry out ``config``'s acceleration and memory settings.

    * ``use_gpu`` → ``device="auto"`` (the GPU when the HAL finds one and
      Aer can use it), else ``"cpu"``; ``require_gpu`` → ``device="gpu"``
      with ``require_gpu=True``;
    * ``enable_tensor_cores`` → ``cuStateVec_enable`` (used on the GPU only);
    * ``optimization_level`` → ``fusion_enable`` and ``fusion_max_qubit``
      (none: off; basic: 2; moderate: 4; aggressive: 5, Aer's widest default);
    * ``precision`` → ``precision``; ``max_memory_bytes`` → ``max_memory_mb``;
    * threads → ``max_parallel_threads``: the performance cores the HAL
      measured (``host``, or this machine detected once), else ``os.cpu_count()``.

    The result is meant for ``qd.get_backend("aer", **options)``.
    """
    acceleration, memory = config.acceleration, config.memory
    device = "gpu" if acceleration.require_gpu else "auto" if acceleration.use_gpu else "cpu"
    fusion = FUSION_BY_LEVEL[acceleration.optimization_level]
    options: dict[str, Any] = {
        "device": device,
        "require_gpu": acceleration.require_gpu,
        "precision": acceleration.precision,
        "cuStateVec_enable": acceleration.enable_tensor_cores,
        "fusion_enable": fusion is not None,
        "max_memory_mb": max(memory.max_memory_bytes // _MIB, 1),
        "max_parallel_threads": _thread_count(host),
    }
    if fusion is not None:
        options["fusion_max_qubit"] = fusion
    return options


def tunable_settings() -> list[TunableSetting]:
    """Settings of the Aer backend the tuner may vary (``backend.aer.<option>``)."""
    tags = frozenset({"backend", BACKEND_NAME})
    return [
        TunableSetting(
            key=_key("method"),
            choices=STATEVECTOR_METHODS,
            default="automatic",
            description="Aer simulation method (those that return a statevector).",
            tags=tags,
        ),
        TunableSetting(
            key=_key("fusion_max_qubit"),
            choices=(2, 3, 4, 5, 6),
            default=5,
            description="Widest gate Aer's fusion pass builds.",
            tags=tags,
        ),
        TunableSetting(
            key=_key("fusion_threshold"),
            choices=(10, 12, 14, 16, 18),
            default=14,
            description="Qubit count from which Aer fuses gates.",
            tags=tags,
        ),
        TunableSetting(
            key=_key("precision"),
            choices=tuple(PRECISIONS),
            default="complex128",
            description="Amplitude precision of Aer's statevector (complex64 halves memory).",
            tags=tags,
        ),
    ]
