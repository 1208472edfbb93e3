"""The backend contract: capabilities as data, results in one shape.

Every backend, built-in or third-party, returns :class:`BackendResult` and
declares a :class:`BackendCapabilities`, so the HAL can choose between them and
the conformance suite in :mod:`qdframe.testing` can check them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import Backend

__all__ = ["BackendCapabilities", "BackendResult", "get_backend"]


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

    :param counts: bitstring (Qiskit order: clbit 0 rightmost) → count.
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


def get_backend(name: str, *, plugins: LoadedPlugins | None = None, **options: Any) -> Backend:
    """Create the backend registered as ``name`` with ``options``.

    :param name: a registered backend name (``qdframe plugins list`` shows them).
    :param plugins: the plugin set to look in; the process default when omitted.
    :raises RegistryError: ``name`` is unknown (the message lists known names
        and the extra that provides a known optional backend).
    """
    from qdframe.plugins import default_plugins

    loaded = plugins if plugins is not None else default_plugins()
    factory = loaded.registries.backends.get(name)
    backend: Backend = factory(**options)
    return backend
