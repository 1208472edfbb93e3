"""The backend-independent NoiseModel: validation, lookup rules and serialisation."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from qdframe.noise import (
    AmplitudeDampingError,
    DepolarizingError,
    GateError,
    NoiseModel,
    PhaseDampingError,
    ReadoutError,
)


def _model() -> NoiseModel:
    return (
        NoiseModel()
        .with_gate_error(DepolarizingError(probability=0.01), ["cx", "cz"])
        .with_gate_error(AmplitudeDampingError(gamma=0.02), "x")
        .with_gate_error(PhaseDampingError(gamma=0.03), ["x"], qubits=[2])
        .with_gate_error(DepolarizingError(probability=0.5), ["x"], qubits=[2])
        .with_readout_error(prob_meas1_prep0=0.1, prob_meas0_prep1=0.2)
        .with_readout_error(prob_meas1_prep0=0.3, qubit=4)
    )


def test_json_round_trip_keeps_everything() -> None:
    model = _model()
    text = model.to_json()
    assert NoiseModel.from_json(text) == model
    data = json.loads(text)
    assert data["gate_errors"][0]["error"] == {"kind": "depolarizing", "probability": 0.01}
    assert NoiseModel.from_dict(model.to_dict()) == model


def test_errors_apply_to_all_qubits_unless_placed() -> None:
    model = _model()
    assert model.errors_for("cx", [0, 1]) == (DepolarizingError(probability=0.01),)
    assert model.errors_for("x", [0]) == (AmplitudeDampingError(gamma=0.02),)
    assert model.errors_for("h", [0]) == ()


def test_placed_errors_replace_general_ones_and_compose_in_order() -> None:
    placed = _model().errors_for("x", [2])
    assert placed == (PhaseDampingError(gamma=0.03), DepolarizingError(probability=0.5))


def test_placement_is_an_exact_qubit_tuple() -> None:
    model = NoiseModel().with_gate_error(DepolarizingError(probability=0.1), ["cx"], qubits=[0, 1])
    assert model.errors_for("cx", (0, 1))
    assert model.errors_for("cx", (1, 0)) == ()


def test_readout_for_prefers_the_qubit_entry() -> None:
    model = _model()
    assert model.readout_for(0) == ReadoutError(prob_meas1_prep0=0.1, prob_meas0_prep1=0.2)
    assert model.readout_for(4) == ReadoutError(prob_meas1_prep0=0.3, qubit=4)
    ideal_here = model.with_readout_error(qubit=7)
    assert ideal_here.readout_for(7) is None


def test_with_readout_error_replaces_the_same_target() -> None:
    model = NoiseModel().with_readout_error(prob_meas1_prep0=0.1)
    model = model.with_readout_error(prob_meas1_prep0=0.2)
    assert len(model.readout_errors) == 1
    assert model.readout_for(3) == ReadoutError(prob_meas1_prep0=0.2)


def test_models_are_immutable_builders() -> None:
    base = NoiseModel()
    built = base.with_gate_error(DepolarizingError(probability=0.1), "h")
    assert base.is_ideal and not built.is_ideal
    with pytest.raises(ValidationError):
        built.gate_errors = ()  # type: ignore[misc]


def test_is_ideal_and_noisy_instructions() -> None:
    assert NoiseModel().is_ideal
    assert NoiseModel().with_readout_error().is_ideal
    assert _model().noisy_instructions == {"cx", "cz", "x"}


@pytest.mark.parametrize(
    "build",
    [
        lambda: DepolarizingError(probability=1.5),
        lambda: AmplitudeDampingError(gamma=-0.1),
        lambda: ReadoutError(prob_meas1_prep0=2.0),
        lambda: GateError(gates=(), error=DepolarizingError(probability=0.1)),
        lambda: GateError(gates=(" h",), error=DepolarizingError(probability=0.1)),
        lambda: GateError(gates=("cx",), qubits=(1, 1), error=DepolarizingError(probability=0.1)),
        lambda: NoiseModel(readout_errors=(ReadoutError(), ReadoutError())),
        lambda: NoiseModel.from_dict(
            {"gate_errors": [{"gates": ["x"], "error": {"kind": "nope"}}]}
        ),
    ],
)
def test_invalid_models_are_rejected(build: object) -> None:
    with pytest.raises(ValidationError):
        build()  # type: ignore[operator]
