"""Zero-noise extrapolation: folding keeps the operation, extrapolation removes the noise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from qdframe_mitigation import (
    CircuitRunner,
    MitigationError,
    ReadoutMitigator,
    ZNEMitigator,
    backend_runner,
    extrapolate,
    fold,
    fold_global,
    fold_local,
    pauli_terms,
    richardson_weights,
)
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator, Pauli, SparsePauliOp, Statevector

import qdframe
from qdframe.errors import ConfigError
from qdframe.noise import DepolarizingError, NoiseModel


def _circuit() -> QuantumCircuit:
    circuit = QuantumCircuit(3, name="zne_probe")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.rx(0.3, 0)
    circuit.s(1)
    circuit.cx(0, 2)
    circuit.ry(0.5, 1)
    circuit.cx(1, 2)
    return circuit


OBSERVABLE = SparsePauliOp.from_list([("ZZI", 1.0), ("IZZ", 0.5), ("XXX", 0.3), ("III", 0.2)])


def _ideal(circuit: QuantumCircuit, observable: SparsePauliOp) -> float:
    return float(Statevector(circuit).expectation_value(observable).real)


def _runner(noise: NoiseModel | None) -> CircuitRunner:
    return backend_runner(qdframe.get_backend("numpy"), noise)


DEPOLARIZING = NoiseModel().with_gate_error(DepolarizingError(probability=0.03), ["cx"])


# -- folding ---------------------------------------------------------------------


def _gate_count(circuit: QuantumCircuit) -> int:
    return sum(1 for i in circuit.data if i.operation.name != "barrier")


@pytest.mark.parametrize("method", ["global", "local"])
@pytest.mark.parametrize("scale", [1, 3, 5, 1.5, 2.2, 4.0])
def test_folding_keeps_the_operation_and_scales_the_gate_count(method: str, scale: float) -> None:
    circuit = _circuit()
    circuit.barrier()
    folded, achieved = fold(circuit, scale, method)
    assert Operator(folded).equiv(Operator(circuit))
    n = _gate_count(circuit)
    assert achieved == _gate_count(folded) / n
    # Partial folds come in whole gates, so the achieved scale is within 1/n of the request.
    assert abs(achieved - scale) <= 1.0 / n + 1e-12
    if float(scale).is_integer() and scale % 2 == 1:
        assert achieved == scale


def test_global_folding_appends_the_inverse_then_the_circuit() -> None:
    circuit = _circuit()
    folded, _ = fold_global(circuit, 3)
    names = [i.operation.name for i in folded.data]
    original = [i.operation.name for i in circuit.data]
    inverse = [i.operation.inverse().name for i in reversed(circuit.data)]
    assert names == original + inverse + original


def test_local_folding_folds_each_gate_in_place() -> None:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    folded, achieved = fold_local(circuit, 3)
    assert [i.operation.name for i in folded.data] == ["h", "h", "h", "cx", "cx", "cx"]
    assert achieved == 3.0


def test_folding_refuses_bad_input() -> None:
    measured = _circuit()
    measured.measure_all()
    with pytest.raises(MitigationError, match="'measure' is not a unitary gate"):
        fold_global(measured, 3)
    with pytest.raises(MitigationError, match=">= 1"):
        fold_global(_circuit(), 0.5)
    with pytest.raises(MitigationError, match="allowed: global, local"):
        fold(_circuit(), 3, "sideways")


# -- extrapolation ------------------------------------------------------------------


def test_linear_extrapolation_recovers_a_line() -> None:
    scales = [1.0, 2.0, 3.0, 5.0]
    assert extrapolate(scales, [0.9 - 0.1 * s for s in scales], "linear") == pytest.approx(0.9)


def test_richardson_extrapolation_is_exact_for_a_polynomial_through_the_points() -> None:
    scales = [1.0, 3.0, 5.0]
    values = [0.8 - 0.07 * s + 0.004 * s**2 for s in scales]
    assert extrapolate(scales, values, "richardson") == pytest.approx(0.8)
    # A line through curved data misses.
    assert abs(extrapolate(scales, values, "linear") - 0.8) > 0.005


def test_richardson_weights() -> None:
    weights = richardson_weights([1.0, 3.0, 5.0])
    assert sum(weights) == pytest.approx(1.0)
    assert weights == pytest.approx([15 / 8, -5 / 4, 3 / 8])


@pytest.mark.parametrize(
    ("scales", "values", "method", "message"),
    [
        ([1.0], [0.5], "linear", "at least 2"),
        ([1.0, 1.0], [0.5, 0.4], "richardson", "distinct"),
        ([1.0, 3.0], [0.5], "linear", "2 scales but 1 values"),
        ([1.0, 3.0], [0.5, 0.4], "cubic", "allowed: linear, richardson"),
    ],
)
def test_extrapolation_refuses_bad_input(
    scales: list[float], values: list[float], method: str, message: str
) -> None:
    with pytest.raises(MitigationError, match=message):
        extrapolate(scales, values, method)


# -- observables ------------------------------------------------------------------


def test_observables_in_every_form_mean_the_same() -> None:
    expected = [("ZZI", 1.0), ("IXY", -0.5)]
    assert pauli_terms({"ZZI": 1.0, "IXY": -0.5}, 3) == expected
    assert pauli_terms(SparsePauliOp.from_list(expected), 3) == expected
    assert pauli_terms("ZZI", 3) == [("ZZI", 1.0)]
    assert pauli_terms(Pauli("-ZZI"), 3) == [("ZZI", -1.0)]


@pytest.mark.parametrize(
    ("observable", "message"),
    [
        ("ZZ", "must be 3 characters"),
        ("ZAZ", "must be 3 characters from I, X, Y, Z"),
        ({"ZZI": 1j}, "complex coefficient"),
        (Pauli("iZZI"), "complex coefficient"),
        ({}, "no terms"),
        (42, "cannot read an observable from int"),
    ],
)
def test_malformed_observables_are_refused(observable: object, message: str) -> None:
    with pytest.raises(MitigationError, match=message):
        pauli_terms(observable, 3)  # type: ignore[arg-type]


class CountingRunner:
    """Runs circuits for real and remembers how many it was given."""

    def __init__(self, runner: CircuitRunner) -> None:
        self.runner = runner
        self.batches: list[int] = []

    def __call__(
        self, circuits: Sequence[QuantumCircuit], *, shots: int, seed: int | None
    ) -> list[Mapping[str, int]]:
        self.batches.append(len(circuits))
        return self.runner(circuits, shots=shots, seed=seed)


def test_without_noise_every_scale_measures_the_ideal_value() -> None:
    runner = CountingRunner(_runner(None))
    result = ZNEMitigator(scales=(1, 2, 3)).estimate(
        _circuit(), OBSERVABLE, runner, shots=20_000, seed=3
    )
    ideal = _ideal(_circuit(), OBSERVABLE)
    # ZZI and IZZ share a basis; XXX needs its own: 2 circuits per scale, one batch.
    assert runner.batches == [6]
    for value, error in zip(result.values, result.std_errors, strict=True):
        assert error > 0
        assert value == pytest.approx(ideal, abs=5 * error)


def test_an_identity_observable_needs_no_circuits() -> None:
    runner = CountingRunner(_runner(None))
    result = ZNEMitigator().estimate(_circuit(), {"III": 0.75}, runner)
    assert result.value == pytest.approx(0.75)
    assert runner.batches == []


# -- mitigation on a noisy model ----------------------------------------------


@pytest.mark.parametrize("folding", ["global", "local"])
def test_zne_is_much_closer_to_the_ideal_than_the_raw_value(folding: str) -> None:
    ideal = _ideal(_circuit(), OBSERVABLE)
    zne = ZNEMitigator(scales=(1, 3, 5), method="richardson", folding=folding)
    result = zne.estimate(_circuit(), OBSERVABLE, _runner(DEPOLARIZING), shots=10_000, seed=17)
    raw_error = abs(result.raw_value - ideal)
    assert raw_error > 0.1  # the noise is real
    assert abs(result.value - ideal) < 0.3 * raw_error
    # Noise grows with the scale, so the measured values move away from the ideal.
    distances = [abs(v - ideal) for v in result.values]
    assert distances == sorted(distances)


def test_linear_extrapolation_also_improves_but_less() -> None:
    ideal = _ideal(_circuit(), OBSERVABLE)
    runner = _runner(DEPOLARIZING)
    linear = ZNEMitigator(method="linear").estimate(
        _circuit(), OBSERVABLE, runner, shots=10_000, seed=17
    )
    assert abs(linear.value - ideal) < 0.7 * abs(linear.raw_value - ideal)


def test_readout_mitigation_combines_with_zne() -> None:
    noise = DEPOLARIZING.with_readout_error(prob_meas1_prep0=0.05, prob_meas0_prep1=0.08)
    runner = _runner(noise)
    readout = ReadoutMitigator()
    readout.calibrate(runner, {0: [0, 1], 1: [2]}, shots=10_000, seed=9)
    zne = ZNEMitigator()
    ideal = _ideal(_circuit(), OBSERVABLE)
    plain = zne.estimate(_circuit(), OBSERVABLE, runner, shots=6000, seed=9)
    both = zne.estimate(_circuit(), OBSERVABLE, runner, shots=6000, seed=9, readout=readout)
    assert abs(both.value - ideal) < 0.5 * abs(plain.value - ideal)


def test_the_result_carries_its_details() -> None:
    result = ZNEMitigator(scales=(1, 3)).estimate(
        _circuit(), "ZZI", _runner(DEPOLARIZING), shots=2000, seed=1
    )
    data = result.to_dict()
    assert data["scales"] == [1.0, 3.0]
    assert data["achieved_scales"] == [1.0, 3.0]
    assert data["raw_value"] == data["values"][0]
    assert data["observable"] == {"ZZI": 1.0}
    assert data["method"] == "richardson" and data["folding"] == "global"
    assert np.isclose(data["value"], 1.5 * data["values"][0] - 0.5 * data["values"][1])


def test_final_measurements_are_removed_but_mid_circuit_ones_refused() -> None:
    circuit = _circuit()
    circuit.measure_all()
    result = ZNEMitigator(scales=(1, 3)).estimate(circuit, "ZZI", _runner(None), shots=200, seed=1)
    assert result.values[0] == pytest.approx(_ideal(_circuit(), SparsePauliOp("ZZI")), abs=0.3)
    mid = QuantumCircuit(1, 1)
    mid.measure(0, 0)
    mid.x(0)
    with pytest.raises(MitigationError, match="mid-circuit 'measure'"):
        ZNEMitigator().estimate(mid, "Z", _runner(None))


def test_scales_that_fold_to_the_same_circuit_are_refused() -> None:
    tiny = QuantumCircuit(1)
    tiny.x(0)
    with pytest.raises(MitigationError, match="further apart"):
        ZNEMitigator(scales=(1.0, 1.2)).estimate(tiny, "Z", _runner(None), shots=10)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scales": (1.0,)}, "at least 2"),
        ({"scales": (1.0, 0.5)}, "distinct numbers >= 1"),
        ({"scales": (1.0, 1.0)}, "distinct numbers >= 1"),
        ({"method": "cubic"}, "allowed: linear, richardson"),
        ({"folding": "random"}, "allowed: global, local"),
        ({"shots": 0}, "zne option shots: must be an integer from 1"),
    ],
)
def test_options_are_checked(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ZNEMitigator(**options)  # type: ignore[arg-type]
