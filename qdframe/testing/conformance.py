"""The backend conformance suite, as a pytest plugin and a base test class.

Two ways to run it (``docs/backends.md`` has the details):

1. Subclass :class:`BackendConformance` in your own tests and say which
   backend to test, by registered name or with a factory fixture::

       from qdframe.testing import BackendConformance

       class TestMySim(BackendConformance):
           backend_name = "mysim"                # a registered backend, or:

           @pytest.fixture
           def backend_factory(self):            # any object with the Backend protocol
               return lambda **options: MySim(**options)

2. Run the shipped suite against a registered backend from the command line::

       pytest -p qdframe.testing.conformance --pyargs qdframe.testing.conformance \\
           --qdframe-backend=mysim --qdframe-backend-option precision=complex64

   (``python -m qdframe.testing mysim`` does the same.)

Every expected value comes from Qiskit (``Statevector``, ``Operator``); sampled
results are checked with a chi-square test at fixed seeds, so a conforming
backend passes deterministically.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Instruction, Parameter
from qiskit.circuit.library import UnitaryGate
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Statevector, random_unitary

import qdframe
from qdframe.backend import BackendCapabilities, BackendResult, BackendResults
from qdframe.errors import QdframeError
from qdframe.noise import DepolarizingError, NoiseModel
from qdframe.protocols import Backend
from qdframe.testing.circuits import (
    choi_circuit,
    ghz_circuit,
    standard_gates,
    teleportation_circuit,
    with_random_parameters,
)
from qdframe.testing.stats import chi_square_test

__all__ = ["BackendConformance", "BackendFactory", "pytest_addoption"]

#: Builds a backend from keyword options.
BackendFactory = Callable[..., Backend]

_GATES = standard_gates(3)
_DEFAULT_ATOL = {"complex128": 1e-8, "complex64": 2e-6}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--qdframe-backend`` and ``--qdframe-backend-option``."""
    group = parser.getgroup("qdframe", "qdframe backend conformance")
    group.addoption(
        "--qdframe-backend",
        action="store",
        default=None,
        metavar="NAME",
        help="registered qdframe backend to run the conformance suite against",
    )
    group.addoption(
        "--qdframe-backend-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="option passed to the backend (repeatable); VALUE is a Python literal or text",
    )


def _parse_options(items: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise pytest.UsageError(f"--qdframe-backend-option wants KEY=VALUE, got {item!r}")
        try:
            options[key.strip()] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            options[key.strip()] = text
    return options


def _results(results: object, count: int) -> BackendResults:
    assert isinstance(results, BackendResults), (
        f"run() must return qdframe.BackendResults, for one circuit as for a sequence; "
        f"got {type(results).__name__}"
    )
    assert len(results) == count, f"run() on {count} circuit(s) returned {len(results)} result(s)"
    for result in results:
        assert isinstance(result, BackendResult), (
            f"BackendResults must hold BackendResult objects, got {type(result).__name__}"
        )
    return results


def _single(results: object) -> BackendResult:
    return _results(results, 1)[0]


def _plugin_set(request: pytest.FixtureRequest) -> Any:
    """The plugin set a registered backend is looked up in.

    When the ``qdframe_plugins`` ini option names plugin modules (or
    ``qdframe_autoload = false``), the pytest plugin's ``qdframe_plugins``
    fixture: the backend under test need not be installed, as for every
    other category's conformance class. Otherwise ``None``: the installed
    plugins (:func:`qdframe.default_plugins`, built once per process).
    """
    try:
        named = request.config.getini("qdframe_plugins")
        autoload = request.config.getini("qdframe_autoload")
    except ValueError:  # qdframe's pytest plugin is not active (-p no:qdframe)
        return None
    if not named and autoload:
        return None
    return request.getfixturevalue("qdframe_plugins")


class BackendConformance:
    """Tests every qdframe backend must pass. Subclass it to run them.

    Class attributes a subclass may set:

    :cvar backend_name: registered name to test (else ``--qdframe-backend``);
        looked up among the installed plugins and the modules the
        ``qdframe_plugins`` ini option names.
    :cvar backend_options: keyword options for the backend.
    :cvar atol: tolerance on statevector amplitudes; by default it follows the
        ``precision`` a result reports (1e-8 for complex128, 2e-6 for complex64).
    :cvar shots: shots of the statistical tests.
    :cvar min_pvalue: a chi-square p-value below this fails a test.
    :cvar max_qubits: width of the random-circuit tests.
    """

    backend_name: str | None = None
    backend_options: dict[str, Any] = {}  # noqa: RUF012 - read-only default
    atol: float | None = None
    shots: int = 4000
    min_pvalue: float = 1e-3
    max_qubits: int = 6

    # -- fixtures -----------------------------------------------------------

    @pytest.fixture
    def backend_factory(self, request: pytest.FixtureRequest) -> BackendFactory:
        """Builds the backend under test; override it for an unregistered backend."""
        name = self.backend_name or request.config.getoption("qdframe_backend", None)
        if not name:
            pytest.skip(
                "no backend to test: set backend_name, override backend_factory, "
                "or pass --qdframe-backend=NAME"
            )
        options = {
            **_parse_options(request.config.getoption("qdframe_backend_option", None) or []),
            **self.backend_options,
        }

        plugins = _plugin_set(request)

        def factory(**extra: Any) -> Backend:
            return qdframe.get_backend(name, plugins=plugins, **{**options, **extra})

        return factory

    @pytest.fixture
    def backend(self, backend_factory: BackendFactory) -> Backend:
        return backend_factory()

    @pytest.fixture
    def capabilities(self, backend: Backend) -> BackendCapabilities:
        return backend.capabilities

    # -- helpers ------------------------------------------------------------

    def _run_state(self, backend: Backend, circuit: QuantumCircuit) -> tuple[Any, float]:
        result = _single(backend.run(circuit, shots=0))
        assert result.statevector is not None, "shots=0 without measurements must give a state"
        state = np.asarray(result.statevector)
        assert state.shape == (2**circuit.num_qubits,), f"statevector shape {state.shape}"
        if self.atol is not None:
            return state, self.atol
        return state, _DEFAULT_ATOL.get(str(result.metadata.get("precision")), 1e-8)

    def _assert_state(self, backend: Backend, circuit: QuantumCircuit) -> None:
        expected = Statevector(circuit).data
        actual, atol = self._run_state(backend, circuit)
        error = float(np.max(np.abs(actual - expected)))
        assert error <= atol, (
            f"{circuit.name}: statevector differs from Qiskit's by {error:.3g} (atol {atol})"
        )

    def _assert_distribution(
        self, counts: dict[str, int], probabilities: dict[str, float], what: str
    ) -> None:
        test = chi_square_test(counts, probabilities)
        assert test.pvalue >= self.min_pvalue, (
            f"{what}: counts {dict(sorted(counts.items()))} do not follow "
            f"{ {k: round(v, 4) for k, v in sorted(probabilities.items())} } "
            f"(chi-square {test.statistic:.2f}, dof {test.dof}, p = {test.pvalue:.2g})"
        )

    @staticmethod
    def _need(capabilities: BackendCapabilities, feature: str) -> None:
        if not getattr(capabilities, feature):
            pytest.skip(f"backend {capabilities.name!r} does not declare {feature}")

    # -- the contract -------------------------------------------------------

    def test_implements_protocol(self, backend: Backend, capabilities: BackendCapabilities) -> None:
        assert isinstance(backend, Backend)
        assert isinstance(backend.name, str) and backend.name
        assert isinstance(capabilities, BackendCapabilities)
        assert capabilities.name == backend.name
        assert capabilities.supported_operations, "supported_operations is empty"
        assert capabilities.max_qubits, "max_qubits names no precision"
        for precision, qubits in capabilities.max_qubits.items():
            assert isinstance(qubits, int) and qubits >= 1, (precision, qubits)

    def test_result_shape(self, backend: Backend) -> None:
        circuit = ghz_circuit(3)
        result = _single(backend.run(circuit, shots=200, seed=1))
        assert sum(result.counts.values()) == 200
        assert set(result.counts) <= {"000", "111"}, result.counts
        for key in ("time_s", "peak_bytes", "method", "precision"):
            assert key in result.metadata, f"metadata lacks {key!r}"

    def test_bit_order_is_qiskit_little_endian(self, backend: Backend) -> None:
        circuit = QuantumCircuit(3, 3)
        circuit.x(0)
        circuit.measure([0, 1, 2], [0, 1, 2])
        assert _single(backend.run(circuit, shots=10, seed=1)).counts == {"001": 10}
        if not backend.capabilities.statevector:
            return  # the counts above are all a backend without statevectors can show
        circuit = QuantumCircuit(3)
        circuit.x(0)
        state, atol = self._run_state(backend, circuit)
        assert abs(state[1]) == pytest.approx(1.0, abs=atol)

    def test_clbits_map_to_their_own_positions(self, backend: Backend) -> None:
        circuit = QuantumCircuit(2, 3)
        circuit.x(1)
        circuit.measure(1, 2)  # qubit 1 → clbit 2
        circuit.measure(0, 0)
        assert _single(backend.run(circuit, shots=5, seed=1)).counts == {"100": 5}

    def test_memory_lists_every_shot(self, backend: Backend) -> None:
        circuit = ghz_circuit(2)
        result = _single(backend.run(circuit, shots=300, seed=3, memory=True))
        assert result.memory is not None and len(result.memory) == 300
        assert Counter(result.memory) == Counter(result.counts)

    def test_seed_makes_runs_reproducible(self, backend: Backend) -> None:
        circuit = random_circuit(4, 4, measure=True, seed=11)
        first = _single(backend.run(circuit, shots=500, seed=42, memory=True))
        second = _single(backend.run(circuit, shots=500, seed=42, memory=True))
        assert first.counts == second.counts
        assert first.memory == second.memory

    def test_batch_returns_results_in_order(self, backend: Backend) -> None:
        zero = QuantumCircuit(1, 1)
        zero.measure(0, 0)
        one = QuantumCircuit(1, 1)
        one.x(0)
        one.measure(0, 0)
        results = _results(backend.run([zero, one, zero], shots=20, seed=5), 3)
        assert [r.counts for r in results] == [{"0": 20}, {"1": 20}, {"0": 20}]

    def test_one_circuit_and_a_batch_of_one_agree(self, backend: Backend) -> None:
        circuit = QuantumCircuit(2, 2)
        circuit.h(0)
        circuit.cx(0, 1)
        circuit.measure([0, 1], [0, 1])
        alone = _single(backend.run(circuit, shots=300, seed=9, memory=True))
        batch = _single(backend.run([circuit], shots=300, seed=9, memory=True))
        assert alone.counts == batch.counts and alone.memory == batch.memory

    def test_empty_batch_returns_no_results(self, backend: Backend) -> None:
        _results(backend.run([], shots=10, seed=1), 0)

    # -- gates and states ---------------------------------------------------

    @pytest.mark.parametrize("gate_name", sorted(_GATES))
    def test_gate_matrix_matches_qiskit(
        self, backend: Backend, capabilities: BackendCapabilities, gate_name: str
    ) -> None:
        self._need(capabilities, "statevector")
        if gate_name not in capabilities.supported_operations:
            pytest.skip(f"{gate_name!r} is not in supported_operations")
        seed = sum(map(ord, gate_name))
        gate = with_random_parameters(_GATES[gate_name], np.random.default_rng(seed))
        self._assert_state(backend, choi_circuit(gate))

    @pytest.mark.parametrize("seed", range(8))
    def test_random_circuit_statevector(
        self, backend: Backend, capabilities: BackendCapabilities, seed: int
    ) -> None:
        self._need(capabilities, "statevector")
        width = 2 + seed % (self.max_qubits - 1)
        circuit = random_circuit(width, depth=6, max_operands=3, seed=1000 + seed)
        self._assert_state(backend, circuit)

    def test_unitary_gate_on_scattered_qubits(
        self, backend: Backend, capabilities: BackendCapabilities
    ) -> None:
        self._need(capabilities, "statevector")
        circuit = QuantumCircuit(5)
        for q in range(5):
            circuit.h(q)
        circuit.append(UnitaryGate(random_unitary(8, seed=4)), [3, 0, 4])
        circuit.append(UnitaryGate(random_unitary(4, seed=5)), [2, 1])
        self._assert_state(backend, circuit)

    def test_global_phase_is_kept(
        self, backend: Backend, capabilities: BackendCapabilities
    ) -> None:
        self._need(capabilities, "statevector")
        circuit = QuantumCircuit(2, global_phase=0.7)
        circuit.h(0)
        circuit.rz(0.3, 1)
        self._assert_state(backend, circuit)

    # -- measurement statistics ---------------------------------------------

    def test_measurement_statistics(self, backend: Backend) -> None:
        circuit = QuantumCircuit(3)
        circuit.ry(1.1, 0)
        circuit.ry(2.2, 1)
        circuit.cx(0, 2)
        circuit.ry(0.4, 2)
        expected = Statevector(circuit).probabilities_dict()
        circuit.measure_all()
        counts = _single(backend.run(circuit, shots=self.shots, seed=1234)).counts
        self._assert_distribution(counts, expected, "measurement statistics")

    def test_partial_measurement_statistics(self, backend: Backend) -> None:
        circuit = QuantumCircuit(3, 2)
        circuit.h(0)
        circuit.ry(0.9, 1)
        circuit.cx(1, 2)
        marginal = Statevector(circuit).probabilities_dict(qargs=[0, 2])
        circuit.measure(0, 0)
        circuit.measure(2, 1)
        counts = _single(backend.run(circuit, shots=self.shots, seed=99)).counts
        self._assert_distribution(counts, marginal, "measuring qubits 0 and 2")

    # -- mid-circuit measurement, feed-forward, reset -------------------------

    @pytest.mark.parametrize("seed", [3, 17, 29])
    def test_teleportation_with_feed_forward(
        self, backend: Backend, capabilities: BackendCapabilities, seed: int
    ) -> None:
        self._need(capabilities, "mid_circuit_measurement")
        self._need(capabilities, "classical_conditions")
        result = _single(backend.run(teleportation_circuit(seed), shots=self.shots, seed=seed))
        # Bitstring: out (clbit 2) then m[1], m[0].
        wrong = sum(n for key, n in result.counts.items() if key[0] == "1")
        assert wrong == 0, f"teleported state was not recovered: {result.counts}"
        protocol: Counter[str] = Counter()
        for key, n in result.counts.items():
            protocol[key[1:]] += n
        self._assert_distribution(
            dict(protocol), {k: 0.25 for k in ("00", "01", "10", "11")}, "Bell measurement"
        )

    def test_if_else_on_register_value(
        self, backend: Backend, capabilities: BackendCapabilities
    ) -> None:
        self._need(capabilities, "classical_conditions")
        qubits = QuantumRegister(3, "q")
        flags = ClassicalRegister(2, "flags")
        out = ClassicalRegister(1, "out")
        circuit = QuantumCircuit(qubits, flags, out)
        circuit.x(1)
        circuit.measure(0, flags[0])
        circuit.measure(1, flags[1])
        with circuit.if_test((flags, 2)) as otherwise:  # flags == 0b10
            circuit.x(2)
        with otherwise:
            circuit.h(2)
        circuit.measure(2, out[0])
        counts = _single(backend.run(circuit, shots=50, seed=8)).counts
        assert counts == {"110": 50}, counts

    def test_measurement_collapses_the_state(
        self, backend: Backend, capabilities: BackendCapabilities
    ) -> None:
        self._need(capabilities, "mid_circuit_measurement")
        circuit = QuantumCircuit(2, 2)
        circuit.h(0)
        circuit.measure(0, 0)
        circuit.cx(0, 1)  # copies the measured value
        circuit.measure(1, 1)
        counts = _single(backend.run(circuit, shots=self.shots, seed=21)).counts
        assert set(counts) <= {"00", "11"}, counts
        self._assert_distribution(counts, {"00": 0.5, "11": 0.5}, "measure then copy")

    def test_reset(self, backend: Backend, capabilities: BackendCapabilities) -> None:
        self._need(capabilities, "mid_circuit_measurement")
        circuit = QuantumCircuit(2, 2)
        circuit.h(0)
        circuit.cx(0, 1)
        circuit.reset(0)
        circuit.measure([0, 1], [0, 1])
        counts = _single(backend.run(circuit, shots=self.shots, seed=13)).counts
        assert set(counts) <= {"00", "10"}, f"qubit 0 was not reset: {counts}"
        self._assert_distribution(counts, {"00": 0.5, "10": 0.5}, "reset of an entangled qubit")
        again = QuantumCircuit(1, 1)
        again.x(0)
        again.reset(0)
        again.x(0)
        again.measure(0, 0)
        assert _single(backend.run(again, shots=20, seed=1)).counts == {"1": 20}

    # -- noise --------------------------------------------------------------

    def test_full_depolarizing_gives_uniform_outcomes(
        self, backend: Backend, capabilities: BackendCapabilities
    ) -> None:
        self._need(capabilities, "noise")
        circuit = QuantumCircuit(2)
        circuit.x(0)
        circuit.x(1)
        circuit.cx(0, 1)
        circuit.measure_all()
        noise = NoiseModel().with_gate_error(DepolarizingError(probability=1.0), ["cx"])
        counts = _single(backend.run(circuit, shots=self.shots, seed=31, noise=noise)).counts
        uniform = {format(i, "02b"): 0.25 for i in range(4)}
        self._assert_distribution(counts, uniform, "depolarizing p=1")

    def test_empty_noise_model_changes_nothing(
        self, backend: Backend, capabilities: BackendCapabilities
    ) -> None:
        self._need(capabilities, "noise")
        circuit = QuantumCircuit(2)
        circuit.x(0)
        circuit.cx(0, 1)
        circuit.measure_all()
        counts = _single(backend.run(circuit, shots=100, seed=2, noise=NoiseModel())).counts
        assert counts == {"11": 100}

    # -- bad input ----------------------------------------------------------

    def test_unbound_parameters_are_rejected(self, backend: Backend) -> None:
        theta = Parameter("theta_unbound")
        circuit = QuantumCircuit(1)
        circuit.rx(theta, 0)
        circuit.measure_all()
        with pytest.raises(QdframeError, match="theta_unbound"):
            backend.run(circuit, shots=10)

    def test_unknown_operation_is_rejected(self, backend: Backend) -> None:
        circuit = QuantumCircuit(1)
        circuit.append(Instruction("frobnicate", 1, 0, []), [0])
        circuit.measure_all()
        with pytest.raises(QdframeError, match="frobnicate"):
            backend.run(circuit, shots=10)

    def test_negative_shots_are_rejected(self, backend: Backend) -> None:
        circuit = ghz_circuit(1)
        with pytest.raises((QdframeError, ValueError)):
            backend.run(circuit, shots=-1)


class TestRegisteredBackend(BackendConformance):
    """The suite against ``--qdframe-backend`` (collected with ``--pyargs``)."""
