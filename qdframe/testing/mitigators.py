"""Conformance kit for mitigators: a known noisy estimate gets better, or stays.

Circuits run on a registered backend (``numpy`` by default) with a noise model
the kit chooses, through the runner shape every mitigator receives:
``run_fn(circuits, *, shots, seed) -> list of counts`` (clbit 0 rightmost).

* ``kind == "counts"`` (readout mitigation): after ``calibrate`` on readout
  noise alone, ``apply`` must at least halve the total variation distance
  of a basis state's and a GHZ state's distribution from the ideal one, give a
  distribution that sums to 1, and leave noiseless counts (almost) as they are.
* ``kind == "expectation"`` (e.g. zero-noise extrapolation): with
  depolarizing gate noise, ``estimate`` must land nearer the ideal value than
  the unmitigated one, and report both.

Capabilities a mitigator declares:

``backend`` (default ``"numpy"``)
    the registered backend the kit's runner uses (needs noise support).
``shots`` (default ``8000``)
    shots per circuit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from qiskit import QuantumCircuit

from qdframe.noise import DepolarizingError, NoiseModel
from qdframe.protocols import Mitigator
from qdframe.testing._kit import CheckSkipped, Kit

__all__ = ["KINDS", "MitigatorKit"]

#: The kinds of mitigator qdframe runs.
KINDS = ("counts", "expectation")

_READOUT = NoiseModel().with_readout_error(prob_meas1_prep0=0.05, prob_meas0_prep1=0.1)
_GATES = NoiseModel().with_gate_error(DepolarizingError(probability=0.04), ["cx"])


def _distance(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    keys = set(p) | set(q)
    total_p = sum(p.values()) or 1.0
    total_q = sum(q.values()) or 1.0
    return 0.5 * sum(abs(p.get(k, 0.0) / total_p - q.get(k, 0.0) / total_q) for k in keys)


def _ghz(width: int) -> QuantumCircuit:
    circuit = QuantumCircuit(width, name=f"ghz{width}")
    circuit.h(0)
    for q in range(width - 1):
        circuit.cx(q, q + 1)
    return circuit


class MitigatorKit(Kit):
    """Checks a mitigator factory (``registry.add("name", Factory)``)."""

    category: ClassVar[str] = "mitigators"
    capability_defaults: ClassVar[dict[str, Any]] = {"backend": "numpy", "shots": 8000}

    def _backend(self) -> Any:
        name = self.capabilities["backend"]
        if self.plugins is not None:
            return self.plugins.registries.backends.get(name)()
        import qdframe

        return qdframe.get_backend(name)

    def _runner(self, noise: NoiseModel | None) -> Any:
        backend = self._backend()

        def run(
            circuits: Sequence[QuantumCircuit], *, shots: int, seed: int | None
        ) -> list[Mapping[str, int]]:
            if not circuits:
                return []
            results = backend.run(list(circuits), shots=shots, seed=seed, noise=noise)
            return [r.counts for r in results]

        return run

    def _kind(self, wanted: str) -> Any:
        mitigator = self.build()
        if mitigator.kind != wanted:
            raise CheckSkipped(f"{self.name!r} is of kind {mitigator.kind!r}")
        return mitigator

    def _calibrated(self, noise: NoiseModel | None, width: int) -> Any:
        mitigator = self._kind("counts")
        shots = self.capabilities["shots"]
        nodes = {node: [2 * node, 2 * node + 1] for node in range(width // 2)}
        mitigator.calibrate(self._runner(noise), nodes, shots=shots, seed=5, num_qubits=width)
        return mitigator

    # ------------------------------------------------------------------ checks

    def check_declares_name_and_kind(self) -> None:
        """The factory builds a Mitigator whose kind is counts or expectation."""
        mitigator = self.build()
        assert isinstance(mitigator, Mitigator), (
            f"{type(mitigator).__name__} lacks name/kind of qdframe.protocols.Mitigator"
        )
        assert isinstance(mitigator.name, str) and mitigator.name
        assert mitigator.kind in KINDS, f"kind {mitigator.kind!r} is not one of {KINDS}"
        needed = {"counts": ("calibrate", "apply", "summary"), "expectation": ("estimate",)}
        missing = [m for m in needed[mitigator.kind] if not callable(getattr(mitigator, m, None))]
        assert not missing, f"a {mitigator.kind!r} mitigator needs {', '.join(missing)}()"

    def check_readout_mitigation_improves_counts(self) -> None:
        """Mitigated distributions of |0101> and GHZ are closer to the ideal ones."""
        mitigator = self._calibrated(_READOUT, 4)
        shots = self.capabilities["shots"]
        basis = QuantumCircuit(4)
        basis.x([0, 2])
        cases = {"|0101>": (basis, {"0101": 1.0}), "ghz": (_ghz(4), {"0000": 0.5, "1111": 0.5})}
        run = self._runner(_READOUT)
        for label, (circuit, ideal) in cases.items():
            measured = circuit.copy()
            measured.measure_all()
            raw = run([measured], shots=shots, seed=9)[0]
            mitigated = mitigator.apply(raw, circuit=measured)
            assert isinstance(mitigated, dict) and mitigated, f"{label}: apply() gave {mitigated!r}"
            assert all(len(k) == 4 for k in mitigated), f"{label}: keys {sorted(mitigated)}"
            assert math.isclose(sum(mitigated.values()), 1.0, abs_tol=1e-6), (
                f"{label}: mitigated probabilities sum to {sum(mitigated.values())}"
            )
            before, after = _distance(raw, ideal), _distance(mitigated, ideal)
            # Known readout error rates of 5-10 %: mitigation must remove most of it.
            assert after <= 0.5 * before, (
                f"{label}: distance to the ideal distribution {after:.4f} after mitigation, "
                f"{before:.4f} before"
            )
        summary = mitigator.summary()
        assert isinstance(summary, dict), f"summary() returned {type(summary).__name__}"

    def check_readout_mitigation_keeps_clean_counts(self) -> None:
        """Calibrated without noise, apply() changes a clean distribution very little."""
        mitigator = self._calibrated(None, 4)
        circuit = _ghz(4)
        circuit.measure_all()
        raw = self._runner(None)([circuit], shots=self.capabilities["shots"], seed=3)[0]
        mitigated = mitigator.apply(raw, circuit=circuit)
        assert _distance(raw, mitigated) < 0.02, f"clean counts {dict(raw)} became {mitigated}"

    def check_expectation_moves_toward_the_ideal(self) -> None:
        """With gate noise, estimate() of <ZZI> on GHZ is nearer the ideal 1 than the raw value."""
        mitigator = self._kind("expectation")
        circuit = _ghz(3)
        circuit.cx(0, 1)
        circuit.cx(0, 1)
        shots = self.capabilities["shots"]
        result = mitigator.estimate(circuit, "ZZI", self._runner(_GATES), shots=shots, seed=4)
        ideal = 1.0
        value, raw = float(result.value), float(result.raw_value)
        assert raw < 0.99, f"the noisy estimate {raw} shows no noise: the kit's runner is wrong"
        assert abs(value - ideal) < abs(raw - ideal), (
            f"mitigated {value:.4f} is no closer to {ideal} than the raw {raw:.4f}"
        )
        report = result.to_dict()
        assert isinstance(report, dict), "to_dict() must return a dict"

    def check_expectation_of_a_noiseless_run_stays(self) -> None:
        """Without noise the mitigated value stays near the exact one."""
        mitigator = self._kind("expectation")
        result = mitigator.estimate(
            _ghz(2), "ZZ", self._runner(None), shots=self.capabilities["shots"], seed=6
        )
        assert abs(float(result.value) - 1.0) < 0.05, f"noiseless <ZZ> estimated {result.value}"
