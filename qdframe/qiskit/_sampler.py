"""``Sampler``: Qiskit's ``BaseSamplerV2`` over a distributed system."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from qiskit.primitives import BaseSamplerV2, PrimitiveJob
from qiskit.primitives.containers import BitArray, DataBin, PrimitiveResult, SamplerPubResult
from qiskit.primitives.containers.sampler_pub import SamplerPub, SamplerPubLike

from qdframe.backend import validate_shots
from qdframe.qiskit._bits import counts_to_rows, pack_register, register_bits
from qdframe.qiskit._lowering import (
    LoweredCircuit,
    Sampling,
    lower_circuit,
    new_context,
    plugins_of,
    run_bindings,
)
from qdframe.qiskit._seeding import SeedLike, call_entropy, derived_seed, validate_seed
from qdframe.qiskit._system import OwnsSystem, SystemHandle, SystemLike

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.noise import NoiseModel
    from qdframe.system import DistributedSystem

__all__ = ["Sampler"]

#: Seed roles under a PUB's index.
_PLAN, _SHOTS, _ORDER = 0, 1, 2


class Sampler(OwnsSystem, BaseSamplerV2):  # type: ignore[misc]
    """Samples PUBs on a simulated network of QPUs.

    Each PUB's circuit is planned, lowered and scheduled once, with its
    parameters unbound; every parameter set of the PUB is then bound into the
    lowered program and sampled through the system's executor. The result
    has one ``BitArray`` per classical register, shaped like the PUB.

    :param system: a :class:`~qdframe.config.SystemConfig`, the path of a TOML
        configuration, a :class:`~qdframe.DistributedSystem`, or ``None``
        (each circuit on a 4-node ring just large enough for it).
    :param default_shots: shots of a PUB that does not say (>= 1).
    :param seed: an int makes every call reproducible; a
        ``numpy.random.Generator`` is drawn from once per call.
    :param verify: prove, for every parameter set, that the distributed
        program computes the circuit (see :func:`qdframe.verification.verify`);
        the verdicts go to the PUB's metadata.
    :param noise: a :class:`qdframe.noise.NoiseModel` for the backend.
    :raises ValueError: ``default_shots`` is not an integer from 1
        (:class:`qdframe.backend.ShotsError`) or ``seed`` is negative.
    """

    def __init__(
        self,
        system: SystemLike = None,
        *,
        default_shots: int = 1024,
        seed: SeedLike = None,
        verify: bool = False,
        noise: NoiseModel | None = None,
    ) -> None:
        self._default_shots = validate_shots(default_shots, minimum=1, name="default_shots")
        self._seed = validate_seed(seed)
        self._verify = bool(verify)
        self._noise = noise
        self._handle = SystemHandle(system)

    # --------------------------------------------------------------- settings

    @property
    def default_shots(self) -> int:
        """Shots of a PUB that does not say."""
        return self._default_shots

    @property
    def seed(self) -> SeedLike:
        """The seed given at construction."""
        return self._seed

    # -------------------------------------------------------------------- run

    def run(
        self, pubs: Iterable[SamplerPubLike], *, shots: int | None = None
    ) -> PrimitiveJob[PrimitiveResult[SamplerPubResult]]:
        """Sample ``pubs``; ``shots`` applies to every PUB that gives none.

        PUBs are checked here, before the job starts, with Qiskit's own rules
        (``ValueError`` or ``TypeError`` for a malformed one).
        """
        if shots is None:
            shots = self._default_shots
        coerced = [SamplerPub.coerce(pub, shots) for pub in pubs]
        if any(len(pub.circuit.cregs) == 0 for pub in coerced):
            warnings.warn(
                "One of your circuits has no output classical registers and so the result "
                "will be empty. Did you mean to add measurement instructions?",
                UserWarning,
                stacklevel=2,
            )
        job: PrimitiveJob[PrimitiveResult[SamplerPubResult]] = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[SamplerPub]) -> PrimitiveResult[SamplerPubResult]:
        entropy = call_entropy(self._seed)
        lowered: dict[int, LoweredCircuit] = {}
        with self._handle.lock:
            results = [self._run_pub(i, pub, entropy, lowered) for i, pub in enumerate(pubs)]
        return PrimitiveResult(results, metadata={"version": 2})

    def _run_pub(
        self, index: int, pub: SamplerPub, entropy: int, cache: dict[int, LoweredCircuit]
    ) -> SamplerPubResult:
        circuit = pub.circuit
        shape = tuple(pub.shape)
        registers = register_bits(circuit)
        metadata: dict[str, Any] = {"shots": pub.shots, "circuit_metadata": circuit.metadata}
        if not registers:
            return SamplerPubResult(DataBin(shape=shape), metadata=metadata)
        system = self._handle.system
        # PUBs of one call that share a circuit share its plan.
        lowered = cache.get(id(circuit))
        if lowered is None:
            lowered, context = lower_circuit(
                system, circuit, seed=derived_seed(entropy, index, _PLAN), noise=self._noise
            )
            cache[id(circuit)] = lowered
        else:
            context = new_context(lowered.config, plugins_of(system), circuit.name)
        size = math.prod(shape)
        values = pub.parameter_values.as_array(circuit.parameters).reshape(
            size, len(lowered.parameters)
        )
        job = lowered.job(noise=self._noise)
        items = [
            Sampling(job, tuple(row), pub.shots, derived_seed(entropy, index, _SHOTS, j))
            for j, row in enumerate(values.tolist())
        ]
        counts = run_bindings(system, context, items)
        arrays = {
            reg.name: np.zeros((*shape, pub.shots, reg.num_bytes), dtype=np.uint8)
            for reg in registers
        }
        for j, (position, item_counts) in enumerate(zip(np.ndindex(shape), counts, strict=True)):
            rng = np.random.default_rng(derived_seed(entropy, index, _ORDER, j))
            rows = counts_to_rows(item_counts, circuit.num_clbits, pub.shots, rng)
            for reg in registers:
                arrays[reg.name][position] = pack_register(rows, reg)
        meas = {reg.name: BitArray(arrays[reg.name], len(reg.clbits)) for reg in registers}
        details = dict(lowered.summary)
        details["stage_seconds"] = dict(context.metrics.get("stage_seconds", {}))
        if self._verify:
            details.update(_verify_bindings(system, circuit, job.bound, values))
        metadata["qdframe"] = details
        return SamplerPubResult(DataBin(**meas, shape=shape), metadata=metadata)


def _verify_bindings(
    system: DistributedSystem,
    circuit: QuantumCircuit,
    bind_distributed: Any,
    values: np.ndarray[Any, Any],
) -> dict[str, Any]:
    """Verify the lowered program against the circuit for every parameter set."""
    from qdframe.verification import verify

    plugins = system.plugins
    verdicts = []
    for row in values.tolist():
        source = circuit.assign_parameters(row) if circuit.parameters else circuit
        verdicts.append(verify(source, bind_distributed(row), plugins=plugins).as_dict())
    answers = [v.get("verified") for v in verdicts]
    verified = None if any(a is None for a in answers) else all(bool(a) for a in answers)
    return {"verified": verified, "verification": verdicts}
