"""Opening a run: the request checked, the run directory, the context, the first state.

A fresh run checks everything it can (shots, seed, observables, network size)
before its run directory exists, so a usage error leaves nothing behind. A
resumed run takes its circuit, shots, seed and observables from the
directory's manifest; a value the caller gives that differs from the
manifest's is refused (:class:`qdframe.errors.ConfigError` naming both), never
silently replaced.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from qdframe.config import CommunicationMode
from qdframe.context import RunContext
from qdframe.errors import CapacityError, CircuitError, ConfigError
from qdframe.rundir import RunDirectory, run_key
from qdframe.stages.intake import parse_observables
from qdframe.stages.result import new_run_id
from qdframe.stages.state import RunRequest, RunState

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.config import SystemConfig
    from qdframe.plugins import LoadedPlugins

__all__ = ["DEFAULT_SHOTS", "open_run"]

#: Shots of a fresh run that does not say.
DEFAULT_SHOTS = 1024


def open_run(
    request: RunRequest,
    *,
    config: SystemConfig,
    config_for: Callable[[QuantumCircuit], SystemConfig],
    plugins: LoadedPlugins,
) -> RunState:
    """The state a run starts from (see the module docstring).

    :param config: the system's configuration (run directory compression).
    :param config_for: the configuration a circuit runs with (network sized for it).
    :param plugins: the plugin set (topology for the size check, error handlers).
    :raises ConfigError: a usage error: a directory that already holds a run,
        a resume without one, a resumed value that differs from the manifest.
    """
    compress = config.memory.compression_level.value != "none"
    if request.resume:
        return _resumed(request, config_for, plugins, compress)
    from qdframe.circuits import load_circuit

    original = load_circuit(request.source)
    run_config = config_for(original)
    shots = request.shots if request.shots is not None else DEFAULT_SHOTS
    seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
    operators = _check_before_writing(original, run_config, plugins, request, shots, seed)
    run_dir = None
    manifest: dict[str, Any] = {}
    if request.report_dir is not None:
        if (request.report_dir / "run.json").exists():
            raise ConfigError(
                f"{request.report_dir} already holds a run; continue it with --resume "
                "or choose another directory"
            )
        manifest = _manifest(original, run_config, shots, seed, request.verify, request.observables)
        manifest["verify_method"] = request.verify_method or "auto"
        run_dir = RunDirectory(request.report_dir, compress=compress)
        run_dir.write_manifest(manifest)
    return _state(request, original, run_config, plugins, run_dir, manifest, shots, seed, operators)


def _resumed(
    request: RunRequest,
    config_for: Callable[[QuantumCircuit], SystemConfig],
    plugins: LoadedPlugins,
    compress: bool,
) -> RunState:
    from qiskit import qasm3

    if request.report_dir is None:
        raise ConfigError("resume needs the run directory of the run to continue")
    run_dir = RunDirectory.open_existing(request.report_dir)
    run_dir.compress = compress
    manifest = run_dir.read_manifest()
    where = f"{request.report_dir / 'run.json'}"
    shots = _kept("shots", request.shots, int(manifest["shots"]), where)
    seed = _kept("seed", request.seed, int(manifest["seed"]), where)
    saved_observables = dict(manifest.get("observables", {}))
    if request.observables:
        given = {k: str(v) for k, v in request.observables.items()}
        _kept("observables", given, saved_observables, where)
    original = qasm3.loads(manifest["circuit_qasm3"])
    original.name = manifest.get("circuit_name", original.name)
    run_config = config_for(original)
    cutting = run_config.distributed.communication_mode is CommunicationMode.CLASSICAL
    operators = parse_observables(saved_observables, original.num_qubits, cutting=cutting)
    verify = bool(manifest.get("verify", False)) or request.verify
    method = request.verify_method or str(manifest.get("verify_method", "auto"))
    return _state(
        request,
        original,
        run_config,
        plugins,
        run_dir,
        manifest,
        shots,
        seed,
        operators,
        verify,
        method,
    )


def _kept(name: str, given: Any, saved: Any, where: str) -> Any:
    """The manifest's value; a different one given for the resumed run is refused."""
    if given is not None and given != saved:
        raise ConfigError(
            f"{name}={given!r} was given, but the run being resumed was started with "
            f"{name}={saved!r} ({where}); a resumed run keeps its {name}",
            key_path=name,
            allowed=f"leave {name} out, or give {saved!r}",
        )
    return saved


def _state(
    request: RunRequest,
    original: QuantumCircuit,
    config: SystemConfig,
    plugins: LoadedPlugins,
    run_dir: RunDirectory | None,
    manifest: Mapping[str, Any],
    shots: int,
    seed: int,
    operators: Mapping[str, Any],
    verify: bool | None = None,
    verify_method: str | None = None,
) -> RunState:
    context = RunContext(
        run_id=run_dir.path.name if run_dir is not None else new_run_id(original.name),
        config=config,
        run_dir=run_dir.path if run_dir is not None else None,
        error_handlers=tuple(e.obj for e in plugins.registries.error_handlers.entries()),
    )
    key = ""
    if run_dir is not None:
        key = run_key(str(manifest.get("circuit_qasm3", "")), config.model_dump(mode="json"), seed)
    return RunState(
        context=context,
        config=config,
        original=original,
        shots=shots,
        seed=seed,
        verify=request.verify if verify is None else verify,
        verify_method=verify_method or request.verify_method or "auto",
        noise=request.noise,
        observables=dict(operators),
        run_dir=run_dir,
        run_key=key,
        resume=request.resume,
    )


def _check_before_writing(
    original: QuantumCircuit,
    config: SystemConfig,
    plugins: LoadedPlugins,
    request: RunRequest,
    shots: int,
    seed: int,
) -> dict[str, Any]:
    """Refuse a request that cannot run (shots, observables, network size) up front."""
    from qdframe.execution import plan_batches
    from qdframe.topology import build_topology

    plan_batches(shots, config.recovery.checkpoint_interval, seed)
    cutting = config.distributed.communication_mode is CommunicationMode.CLASSICAL
    operators = parse_observables(request.observables, original.num_qubits, cutting=cutting)
    topology = build_topology(config, plugins=plugins)
    have = int(topology.data_qubits.sum())
    if not cutting and original.num_qubits > have:
        raise CapacityError(
            f"the circuit needs {original.num_qubits} qubits but the network holds only "
            f"{have} data qubits ({topology.num_nodes} nodes); add nodes or qubits per node"
        )
    return operators


def _manifest(
    original: QuantumCircuit,
    config: SystemConfig,
    shots: int,
    seed: int,
    verify: bool,
    observables: Mapping[str, Any],
) -> dict[str, Any]:
    from qiskit import qasm3

    from qdframe import __version__

    try:
        text = qasm3.dumps(original)
    except Exception as exc:  # the exporter raises several types
        raise CircuitError(
            f"circuit {original.name!r} cannot be saved in the run directory as "
            f"OpenQASM 3 ({exc}); use standard gates or gates with a definition"
        ) from None
    return {
        "qdframe_version": __version__,
        "circuit_name": original.name,
        "circuit_qasm3": text,
        "config": config.model_dump(mode="json"),
        "shots": shots,
        "seed": seed,
        "verify": verify,
        "observables": {k: str(v) for k, v in observables.items()},
    }
