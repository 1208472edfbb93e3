"""The backend contract: capabilities as data, results in one shape.

Every backend, built-in or third-party, returns :class:`BackendResults` (one
:class:`BackendResult` per circuit, in order, whether it was given one circuit
or a sequence) and declares a :class:`BackendCapabilities`, so the HAL can choose between them and
the conformance suite in :mod:`qdframe.testing` can check them.

The helpers below are shared by backends so that they refuse work in the same
words: :func:`memory_budget` and :func:`check_memory` guard allocations,
:func:`statevector_bytes` sizes a state, :func:`validate_shots` checks a shot
count, and :class:`InvalidCircuitError` reports a circuit a backend cannot run.

The statevector memory rule lives here and nowhere else: a state of ``n``
qubits takes :func:`statevector_bytes` (``2**n`` amplitudes of 8 or 16
bytes), and a simulation may plan to use :data:`MEMORY_FRACTION` of the
memory it has. :func:`memory_budget` applies the fraction to the memory
available now (what a backend checks before it allocates),
:func:`max_statevector_qubits` gives the largest state that fits a budget;
the HAL's machine profiles (:mod:`qdframe_hal.capacity`) use the same
functions on a machine's total memory.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final, overload

from qdframe.errors import CircuitError, ConfigError, ResourceError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import Backend

__all__ = [
    "AVAILABLE_MEMORY_FRACTION",
    "DEFAULT_BACKEND",
    "MAX_SHOTS",
    "MEMORY_FRACTION",
    "PRECISIONS",
    "BackendCapabilities",
    "BackendResult",
    "BackendResults",
    "InvalidCircuitError",
    "MemoryBudget",
    "ShotsError",
    "check_memory",
    "format_bytes",
    "get_backend",
    "max_statevector_qubits",
    "memory_budget",
    "single_result",
    "statevector_bytes",
    "validate_shots",
]

#: The backend :func:`get_backend` returns when no name is given.
DEFAULT_BACKEND = "numpy"

#: Amplitude precisions a statevector backend may offer, with bytes per amplitude.
PRECISIONS: dict[str, int] = {"complex128": 16, "complex64": 8}

#: Share of its memory a simulation may plan to use; the rest is left for the
#: interpreter, the operating system and other processes.
MEMORY_FRACTION: Final = Fraction(4, 5)

#: :data:`MEMORY_FRACTION`, the name backends used for it first.
AVAILABLE_MEMORY_FRACTION: Final = MEMORY_FRACTION


class _PrecisionError(ConfigError, ValueError):
    """An amplitude precision that is not one of :data:`PRECISIONS`."""


class InvalidCircuitError(CircuitError, ValueError):
    """A circuit (or run request) that a backend cannot execute.

    Raised for an unsupported operation, a non-unitary matrix, unbound
    parameters or an impossible request such as ``shots=0`` on a circuit with
    measurements. It is the user's input that must change, hence exit code 2;
    catching :class:`qdframe.errors.CircuitError` catches it too.
    """


@dataclass(frozen=True)
class BackendCapabilities:
    """What a backend can do, declared as data.

    :param name: the registered backend name.
    :param max_qubits: largest circuit, per precision name (``"complex128"``,
        ``"complex64"``), that fits the memory available to this backend.
    :param supported_operations: Qiskit operation names it executes.
    :param noise: accepts a :class:`qdframe.noise.NoiseModel`.
    :param mid_circuit_measurement: measurements may be followed by gates.
    :param classical_conditions: ``if_test`` blocks and ``c_if`` conditions.
    :param statevector: returns the exact final state for ``shots=0``.
    :param devices: devices it can run on, e.g. ``("cpu",)`` or ``("cpu", "gpu")``.
    :param methods: simulation methods it offers.
    """

    name: str
    max_qubits: dict[str, int]
    supported_operations: frozenset[str]
    noise: bool = False
    mid_circuit_measurement: bool = False
    classical_conditions: bool = False
    statevector: bool = True
    devices: tuple[str, ...] = ("cpu",)
    methods: tuple[str, ...] = ("statevector",)


@dataclass
class BackendResult:
    """The outcome of running one circuit.

    :param counts: bitstring → count. A bitstring has one character per
        classical bit of the circuit, clbit 0 rightmost (Qiskit's order), with
        no separators between registers. A circuit without classical bits
        counts every shot under ``""``.
    :param statevector: final state in Qiskit's little-endian order, given when
        ``shots == 0`` and the circuit has no measurement.
    :param memory: one bitstring per shot, in shot order, when asked for.
    :param metadata: at least ``time_s``, ``peak_bytes``, ``method`` and
        ``precision``.
    """

    counts: dict[str, int] = field(default_factory=dict)
    statevector: npt.NDArray[np.complexfloating[Any, Any]] | None = None
    memory: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class BackendResults(Sequence[BackendResult]):
    """What :meth:`~qdframe.protocols.Backend.run` returns: one result per circuit, in order.

    A backend returns this type whether it was given one circuit or a
    sequence, so callers never test which they got. It is a read-only
    sequence (``results[0]``, ``len(results)``, iteration). When it holds
    exactly one result, as after ``backend.run(circuit)``, :attr:`counts`,
    :attr:`statevector`, :attr:`memory` and :attr:`metadata` are that
    result's, so ``backend.run(circuit, shots=0).statevector`` reads as it
    says.

    :param results: the results, one per circuit in the order run.
    :raises TypeError: an item is not a :class:`BackendResult`.
    """

    __slots__ = ("_results",)

    def __init__(self, results: Iterable[BackendResult] = ()) -> None:
        items = tuple(results)
        for index, item in enumerate(items):
            if not isinstance(item, BackendResult):
                raise TypeError(
                    f"BackendResults holds BackendResult objects; item {index} is "
                    f"{type(item).__name__}"
                )
        self._results = items

    @overload
    def __getitem__(self, index: int) -> BackendResult: ...

    @overload
    def __getitem__(self, index: slice) -> BackendResults: ...

    def __getitem__(self, index: int | slice) -> BackendResult | BackendResults:
        if isinstance(index, slice):
            return BackendResults(self._results[index])
        return self._results[index]

    def __len__(self) -> int:
        return len(self._results)

    def __iter__(self) -> Iterator[BackendResult]:
        return iter(self._results)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BackendResults):
            return NotImplemented
        return self._results == other._results

    __hash__ = None  # type: ignore[assignment]  # results are mutable dataclasses

    def __repr__(self) -> str:
        return f"BackendResults({list(self._results)!r})"

    def single(self) -> BackendResult:
        """The only result, as after running one circuit.

        :raises ValueError: the batch holds no result or more than one.
        """
        if len(self._results) != 1:
            raise ValueError(
                f"this batch holds {len(self._results)} results, one per circuit run; "
                f"index it (results[i]) instead of reading one result's fields"
            )
        return self._results[0]

    @property
    def counts(self) -> dict[str, int]:
        """The only result's counts (see :meth:`single`)."""
        return self.single().counts

    @property
    def statevector(self) -> npt.NDArray[np.complexfloating[Any, Any]] | None:
        """The only result's statevector (see :meth:`single`)."""
        return self.single().statevector

    @property
    def memory(self) -> list[str] | None:
        """The only result's per-shot bitstrings (see :meth:`single`)."""
        return self.single().memory

    @property
    def metadata(self) -> dict[str, Any]:
        """The only result's metadata (see :meth:`single`)."""
        return self.single().metadata


@dataclass(frozen=True)
class MemoryBudget:
    """How many bytes a backend may allocate, and where that limit comes from.

    :param bytes: the limit.
    :param source: a phrase for messages, e.g. ``"max_memory_bytes=1000000"``.
    """

    bytes: int
    source: str


def format_bytes(count: float) -> str:
    """``count`` bytes in binary units with three significant digits."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.3g} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _bytes_per_amplitude(precision: str) -> int:
    try:
        return PRECISIONS[precision]
    except KeyError:
        raise _PrecisionError(
            f"unknown precision {precision!r}", allowed=", ".join(PRECISIONS)
        ) from None


def statevector_bytes(num_qubits: int, precision: str = "complex128") -> int:
    """Bytes of one statevector of ``num_qubits`` qubits at ``precision``.

    :raises ConfigError: ``precision`` is not one of :data:`PRECISIONS` (the
        error is a :class:`ValueError` too).
    """
    return _bytes_per_amplitude(precision) << num_qubits


def max_statevector_qubits(
    memory_bytes: int,
    precision: str = "complex128",
    *,
    fraction: Fraction = MEMORY_FRACTION,
    workspace_factor: int = 1,
) -> int:
    """Largest ``n`` with ``workspace_factor * statevector_bytes(n) <= fraction * memory_bytes``.

    :param memory_bytes: memory the simulation has (a budget from
        :func:`memory_budget` with ``fraction=1``, or a machine's memory).
    :param precision: ``"complex64"`` or ``"complex128"``.
    :param fraction: share of ``memory_bytes`` the simulation may use.
    :param workspace_factor: how many state-sized buffers live at once.
    :returns: ``n >= 0``; 0 when not even one amplitude pair fits.
    :raises ConfigError: ``memory_bytes`` is negative or the precision unknown.
    """
    if memory_bytes < 0:
        raise ConfigError(f"memory_bytes must be >= 0, got {memory_bytes}")
    per_state = workspace_factor * _bytes_per_amplitude(precision)
    # Exact integer arithmetic: floor(fraction * memory / per_state) amplitudes.
    amplitudes = (memory_bytes * fraction.numerator) // (fraction.denominator * per_state)
    return max(amplitudes.bit_length() - 1, 0)


def memory_budget(max_memory_bytes: int | None = None) -> MemoryBudget:
    """The bytes a backend may use: the smaller of ``max_memory_bytes`` and
    :data:`MEMORY_FRACTION` of the memory available right now."""
    import psutil

    available = int(psutil.virtual_memory().available * MEMORY_FRACTION)
    if max_memory_bytes is not None and max_memory_bytes <= available:
        return MemoryBudget(int(max_memory_bytes), f"max_memory_bytes={max_memory_bytes}")
    percent = int(MEMORY_FRACTION * 100)
    return MemoryBudget(available, f"{percent}% of the memory available now")


def check_memory(
    needed: int,
    budget: MemoryBudget,
    *,
    what: str,
    backend: str,
    advice: str = "",
) -> None:
    """Refuse, before allocating, work that needs more than ``budget``.

    :param needed: bytes the work would allocate at its peak.
    :param budget: what may be used (see :func:`memory_budget`).
    :param what: the work, e.g. ``"a 30-qubit complex128 statevector"``.
    :param backend: the backend's name, for the message.
    :param advice: what the user can do instead.
    :raises ResourceError: ``needed`` exceeds the budget; the message states
        both numbers and the advice.
    """
    if needed <= budget.bytes:
        return
    message = (
        f"backend {backend!r}: {what} needs {format_bytes(needed)} ({needed} bytes) "
        f"but only {format_bytes(budget.bytes)} ({budget.bytes} bytes) may be used "
        f"({budget.source})"
    )
    if advice:
        message += f". {advice}"
    raise ResourceError(message)


def single_result(result: BackendResults | BackendResult) -> BackendResult:
    """The result of a one-circuit :meth:`~qdframe.protocols.Backend.run`.

    :raises ValueError: ``result`` holds more or fewer than one result.
    :raises TypeError: ``result`` is neither a :class:`BackendResults` nor a
        :class:`BackendResult`.
    """
    if isinstance(result, BackendResult):
        return result
    if isinstance(result, BackendResults):
        return result.single()
    raise TypeError(f"expected BackendResults, got {type(result).__name__}")


#: Most shots one run, or one backend call, may ask for.
MAX_SHOTS = 10**9


class ShotsError(InvalidCircuitError, ConfigError):
    """A shot count that is not a whole number in the range asked for.

    Raised by :func:`validate_shots`, the one check of a shot count that
    every caller (``DistributedSystem.run``, backends, mitigators, the Qiskit
    primitives) uses. It is a usage error (exit code 2) and, so that every
    earlier way of catching a bad shot count still works, a
    :class:`~qdframe.errors.ConfigError` (with ``key_path`` naming the
    argument or option), an :class:`InvalidCircuitError` and a ``ValueError``.
    """


def validate_shots(shots: object, *, minimum: int = 0, name: str = "shots") -> int:
    """Return ``shots`` when it is a whole number from ``minimum`` to :data:`MAX_SHOTS`.

    The one check of a shot count. ``minimum=0`` (a backend's ``run``) lets
    ``shots=0`` ask for the exact statevector; a run or a mitigator needs
    ``minimum=1``.

    :param name: what the count is called, for the message and ``key_path``
        (``"shots"``, ``"default_shots"``, ``"zne option shots"``).
    :raises ShotsError: it is not an integer (``bool`` included) or out of range.
    """
    if isinstance(shots, numbers.Integral) and not isinstance(shots, bool):
        count = int(shots)
        if minimum <= count <= MAX_SHOTS:
            return count
    hint = " (0 asks for the exact statevector)" if minimum == 0 else ""
    raise ShotsError(
        f"must be an integer from {minimum} to {MAX_SHOTS}{hint}, got {shots!r}", key_path=name
    )


def get_backend(
    name: str = DEFAULT_BACKEND, *, plugins: LoadedPlugins | None = None, **options: Any
) -> Backend:
    """Create the backend registered as ``name`` with ``options``.

    :param name: a registered backend name (``qdframe plugins list`` shows
        them); :data:`DEFAULT_BACKEND` when omitted.
    :param plugins: the plugin set to look in; the process default when omitted.
    :param options: keyword options for the backend's factory, e.g.
        ``precision="complex64"`` or ``max_memory_bytes=2**30``.
    :raises RegistryError: ``name`` is unknown (the message lists known names
        and the extra that provides a known optional backend).
    """
    from qdframe.plugins import default_plugins

    loaded = plugins if plugins is not None else default_plugins()
    factory = loaded.registries.backends.get(name)
    backend: Backend = factory(**options)
    return backend
