"""What a plugin implements, per registry category.

These are structural types (:class:`typing.Protocol`): a plugin object needs no
base class, only the attributes and methods below. Which registry holds
*factories* and which the objects themselves, and how a factory is called,
is data: the ``holds`` and ``signature`` of each row of
:data:`qdframe.registry.CATEGORY_TABLE`. ``docs/plugins.md`` shows a complete
plugin of each category.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from types import TracebackType

    from qiskit import QuantumCircuit

    from qdframe.allocation import Allocation, AllocationProblem
    from qdframe.backend import BackendCapabilities, BackendResults
    from qdframe.context import RecoveryAction, RunContext
    from qdframe.noise import NoiseModel
    from qdframe.topology import LinkSpec, Topology

__all__ = [
    "Allocator",
    "Backend",
    "CircuitRunner",
    "CountsMitigator",
    "ErrorHandler",
    "Executor",
    "ExpectationMitigator",
    "Mitigator",
    "Optimizer",
    "OptimizerReport",
    "TopologyBuilder",
]

J = TypeVar("J")
R = TypeVar("R")


@runtime_checkable
class Backend(Protocol):
    """A simulator (or device) that runs Qiskit circuits.

    Registered as a factory: ``registry.add("mysim", MySim)`` where
    ``MySim(**options)`` builds it. Run the conformance suite in
    :mod:`qdframe.testing` against it.
    """

    name: str

    @property
    def capabilities(self) -> BackendCapabilities:
        """What this backend supports, as data (see :class:`BackendCapabilities`)."""

    def run(
        self,
        circuits: QuantumCircuit | Sequence[QuantumCircuit],
        shots: int = 1024,
        seed: int | None = None,
        noise: NoiseModel | None = None,
        *,
        memory: bool = False,
    ) -> BackendResults:
        """Run one circuit or a sequence; one result per circuit, in order.

        The return type is the same either way: a :class:`BackendResults`
        holding one result (whose ``counts`` and ``statevector`` it then
        exposes directly) or one per circuit of the sequence.
        ``shots=0`` asks for the exact final statevector of a circuit without
        measurements. Results for a given ``seed`` are deterministic, and a
        circuit run alone gives the same result as when it is first in a batch.
        """


@runtime_checkable
class TopologyBuilder(Protocol):
    """Builds a network :class:`qdframe.topology.Topology` of a given size.

    Registered directly: ``registry.add("ring", build_ring)``.
    """

    def __call__(
        self,
        num_nodes: int,
        *,
        qubits_per_node: int,
        comm_qubits_per_node: int,
        link: LinkSpec | None = None,
        **params: Any,
    ) -> Topology:
        """Return the topology.

        ``link`` is the default link built from the ``[communication]`` block;
        ``params`` are the ``[distributed] topology_params``. Raise
        :class:`qdframe.errors.ConfigError` naming the sizes that fit when
        ``num_nodes`` does not fit the shape, and naming unknown parameters.
        """


@runtime_checkable
class Allocator(Protocol):
    """Assigns circuit qubits to nodes (optionally per time slice).

    Registered as a factory: ``registry.add("fm", FMAllocator)``.
    """

    name: str

    def allocate(self, problem: AllocationProblem, *, seed: int | None = None) -> Allocation:
        """Return an allocation that respects every node's capacity."""


class OptimizerReport(Protocol):
    """What an optimizer says it saved."""

    name: str
    saved: dict[str, float]


@runtime_checkable
class Optimizer(Protocol):
    """A pass over the circuit or the distributed plan.

    Registered as a factory; optimizers run in the order the configuration
    lists them. ``stage`` says where in the pipeline it applies.
    """

    name: str
    stage: str

    def optimize(self, subject: Any, context: RunContext) -> tuple[Any, OptimizerReport]:
        """Return the improved subject (same type) and a report of what it saved."""


@runtime_checkable
class ErrorHandler(Protocol):
    """Decides how to recover from one kind of error.

    Registered as an object. The built-in ``qdframe_handle_error`` asks each
    handler whose ``handles`` matches the error, in registration order.
    """

    handles: tuple[type[BaseException], ...]

    def handle(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        """Return the recovery action, or ``None`` to defer to the next handler."""


@runtime_checkable
class Executor(Protocol):
    """Runs independent jobs and returns their results in submission order.

    Registered as a factory: ``registry.add("local", LocalExecutor)``. Used as a
    context manager; leaving it shuts down whatever it started.
    """

    name: str

    def map(
        self,
        fn: Callable[[J], R],
        jobs: Sequence[J],
        *,
        max_retries: int = 0,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[R]:
        """Apply ``fn`` to each job; a failed job is retried up to ``max_retries``
        times. ``progress(done, total)`` is called as jobs finish."""

    def close(self) -> None:
        """Release workers and clusters this executor started."""

    def __enter__(self) -> Executor: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class CircuitRunner(Protocol):
    """How a mitigator runs circuits: the caller's backend, noise and seed.

    Counts come back in the order of ``circuits``, clbit 0 rightmost.
    """

    def __call__(
        self, circuits: Sequence[QuantumCircuit], *, shots: int, seed: int | None
    ) -> Sequence[Mapping[str, int]]: ...


@runtime_checkable
class Mitigator(Protocol):
    """Reduces the effect of noise on results.

    Registered as a factory: ``registry.add("readout", ReadoutMitigator)``;
    options are keyword arguments and invalid ones raise ``ConfigError``.
    Mitigators never choose a backend: they run circuits through a
    :class:`CircuitRunner` supplied by the caller.

    ``kind`` says which methods it provides: ``"counts"`` (readout) those of
    :class:`CountsMitigator`, ``"expectation"`` (zero-noise extrapolation)
    those of :class:`ExpectationMitigator`.
    """

    name: str
    kind: str


@runtime_checkable
class CountsMitigator(Mitigator, Protocol):
    """A mitigator of ``kind == "counts"``: calibrates, then corrects counts."""

    def calibrate(
        self,
        run_fn: CircuitRunner,
        qubits_by_node: Mapping[int, Sequence[int]],
        *,
        shots: int | None = None,
        seed: int | None = None,
        num_qubits: int | None = None,
    ) -> Any:
        """Measure the readout errors of each node's qubits and keep them."""
        ...

    def apply(
        self,
        counts: Mapping[str, float],
        *,
        clbit_qubits: Sequence[int] | None = None,
        circuit: QuantumCircuit | None = None,
    ) -> dict[str, float]:
        """Mitigated probabilities of ``counts`` (``clbit_qubits[i]``: the qubit of clbit ``i``)."""
        ...

    def summary(self) -> dict[str, Any]:
        """What the run report records about the calibration."""
        ...


@runtime_checkable
class ExpectationMitigator(Mitigator, Protocol):
    """A mitigator of ``kind == "expectation"``: estimates expectation values."""

    def estimate(
        self,
        circuit: QuantumCircuit,
        observable: Any,
        run_fn: CircuitRunner,
        *,
        shots: int | None = None,
        seed: int | None = None,
    ) -> Any:
        """The mitigated expectation value; the result has ``.value``,
        ``.raw_value`` and ``.to_dict()``."""
        ...
