"""``DistributedSystem``: plans and runs circuits; the API behind ``qdframe run``.

A run goes through the stages of :data:`qdframe.hookspecs.PIPELINE_STAGES`
(:mod:`qdframe.orchestration` lists them top to bottom); each fires its hooks
and its failures reach ``qdframe_handle_error``. The recovery the handlers
choose is carried out by the core: a retry waits and runs the attempt again,
a re-route or a reallocation marks the failed link or node down and plans
again on what is left, a hardware failure falls back to running the original
circuit on the local simulator, and anything else aborts with the original
error; at most ``recovery.max_retries`` attempts are re-run.

A system is a context manager: entering it loads the plugins, tells them the
configuration and starts the optimization-sharing client when enabled;
leaving it (also on error) shuts down the executor, the client and whatever
they started.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from qdframe.config import SystemConfig
from qdframe.pipeline import configure_plugins
from qdframe.plugins import LoadedPlugins, load_plugins
from qdframe.stages.result import RunResult, new_run_id

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from qiskit import QuantumCircuit

    from qdframe.noise import NoiseModel
    from qdframe.planning import Plan
    from qdframe.protocols import Executor

__all__ = ["DistributedSystem", "RunResult", "default_config_for", "new_run_id"]


def default_config_for(num_qubits: int) -> SystemConfig:
    """The configuration used when none is given: a 4-node ring that holds the circuit.

    See :mod:`qdframe.sizing` for how a partly given network is completed.
    """
    from qdframe.sizing import sized_config

    return sized_config(None, num_qubits)


class DistributedSystem:
    """Plans and runs circuits on a network of quantum processors.

    :param config: the system configuration; without one (or when it leaves
        the network size unset), each circuit runs on a 4-node ring of nodes
        just large enough for it, on the default backend with the local
        executor.
    :param plugins: the plugin set to use; loaded from entry points (minus
        ``[integration] disabled_plugins``) when omitted.
    """

    def __init__(
        self, config: SystemConfig | None = None, *, plugins: LoadedPlugins | None = None
    ) -> None:
        self._explicit = config is not None
        self.config = config if config is not None else SystemConfig()
        self._given_plugins = plugins
        self.plugins: LoadedPlugins | None = None
        self._executor: Executor | None = None
        self._network: Any = None
        self._learner: Any = None
        self._entered = False

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> DistributedSystem:
        self.initialize()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def initialize(self) -> None:
        """Load plugins, configure them and start the sharing client (when enabled)."""
        if self._entered:
            return
        from qdframe.adaptive import LinkLearner

        self.plugins = self._given_plugins or load_plugins(
            disabled=self.config.integration.disabled_plugins
        )
        configure_plugins(self.plugins, self.config)
        self._learner = LinkLearner(self.config.adaptive)
        if self.config.network.enabled:
            self._network = _start_network_client(self.config, self.plugins)
            applied = getattr(self._network, "applied_config", None)
            if applied is not None and self._explicit:
                # Shared settings apply only to whitelisted keys (see qdframe.network).
                self.config = applied
        self._entered = True

    def cleanup(self) -> None:
        """Shut down the executor, the sharing client and what they started."""
        executor, self._executor = self._executor, None
        network, self._network = self._network, None
        try:
            if executor is not None:
                executor.close()
        finally:
            if network is not None:
                network.stop()
            self._entered = False

    def _require_plugins(self) -> LoadedPlugins:
        if self.plugins is None:
            self.initialize()
        assert self.plugins is not None
        return self.plugins

    def executor(self) -> Executor:
        """The configured executor, created on first use and closed by :meth:`cleanup`."""
        if self._executor is None:
            plugins = self._require_plugins()
            name = self.config.resources.executor
            factory = plugins.registries.executors.get(name)
            self._executor = factory(config=self.config)
        return self._executor

    # ---------------------------------------------------------------- planning

    def config_for(self, circuit: QuantumCircuit) -> SystemConfig:
        """The configuration a circuit runs with.

        A network size the configuration leaves unset is filled in for the
        circuit (:mod:`qdframe.sizing`): without one, a 4-node ring of nodes
        just large enough for it.

        :raises CapacityError: the configured network cannot hold the circuit.
        """
        from qdframe.sizing import sized_config

        return sized_config(self.config, circuit.num_qubits)

    def plan(self, circuit: QuantumCircuit | str | Path, *, seed: int | None = None) -> Plan:
        """Allocate the circuit's qubits to nodes and price the result.

        :raises CapacityError: the network has fewer data qubits than the circuit.
        """
        from qdframe.circuits import load_circuit
        from qdframe.planning import make_plan

        plugins = self._require_plugins()
        source = load_circuit(circuit)
        return make_plan(source, self.config_for(source), plugins=plugins, seed=seed)

    # --------------------------------------------------------------------- run

    def run(
        self,
        circuit: QuantumCircuit | str | Path,
        shots: int | None = None,
        seed: int | None = None,
        observables: Mapping[str, Any] | None = None,
        verify: bool = False,
        *,
        noise: NoiseModel | None = None,
        report_dir: str | Path | None = None,
        resume: bool = False,
        progress: Callable[[int, int], None] | None = None,
        backend: str | None = None,
        max_seconds: float | None = None,
        verify_method: str | None = None,
    ) -> RunResult:
        """Run ``circuit`` distributed over the network.

        :param shots: measurement shots, 1 to :data:`qdframe.execution.MAX_SHOTS`
            (1024 when omitted; a resumed run keeps its own).
        :param seed: makes the run reproducible (plan, batches and sampling);
            an integer from 0 to :data:`qdframe.execution.MAX_SEED` (random
            when omitted; a resumed run keeps its own).
        :param observables: name → Pauli string or ``SparsePauliOp`` over the
            circuit's qubits; estimated from the counts.
        :param verify: check that the distributed circuit equals the original.
        :param verify_method: the :func:`qdframe.verify` method, one of
            :data:`qdframe.verification.METHODS` (``"auto"`` when omitted);
            giving one implies ``verify``. A resumed run keeps the method it
            was started with unless another is given.
        :param noise: a noise model for the backend (enables mitigation).
        :param report_dir: the run directory for checkpoints and the report.
        :param resume: continue the run in ``report_dir``: its circuit, shots,
            seed and observables come from the directory; giving a different
            ``shots``, ``seed`` or ``observables`` is refused
            (:class:`qdframe.errors.ConfigError` naming both values).
        :param progress: ``progress(done, total)`` over shot batches.
        :param backend: run on this registered backend (``"auto"``: the HAL
            chooses) instead of the configured one.
        :param max_seconds: refuse the run (:class:`qdframe.estimate.RunTooLongError`)
            when its estimate, made after lowering and before any shot runs, is
            longer; ``result.metrics["estimate"]`` holds the estimate either way.
        """
        from qdframe import orchestration
        from qdframe.execution import check_seed, check_shots
        from qdframe.stages import RunRequest

        if shots is not None:
            check_shots(shots)
        if seed is not None:
            check_seed(seed)
        if verify_method is not None:
            from qdframe.verification import check_method_name

            check_method_name(verify_method, key_path="verify_method")
            verify = True
        plugins = self._require_plugins()
        request = RunRequest(
            source=circuit,
            shots=shots,
            seed=seed,
            observables=dict(observables or {}),
            verify=verify,
            verify_method=verify_method,
            noise=noise,
            report_dir=Path(report_dir) if report_dir is not None else None,
            resume=resume,
            progress=progress,
            backend=backend,
            max_seconds=max_seconds,
        )
        return orchestration.run(
            request,
            config=self.config,
            config_for=self.config_for,
            plugins=plugins,
            executor=self.executor(),
            learner=self._learner,
        )

    @property
    def learner(self) -> Any:
        """The adaptive link learner (link weights learned from observed runs)."""
        return self._learner


def _start_network_client(config: SystemConfig, plugins: LoadedPlugins) -> Any:
    """Start the optimization-sharing client; a failure never stops the system."""
    import logging

    try:
        from qdframe.network.client import DistributedOptimizationNetwork
        from qdframe.network.whitelist import Whitelist
    except ImportError as exc:  # the client needs only core packages, but be safe
        logging.getLogger(__name__).warning("optimization sharing unavailable: %s", exc)
        return None
    # Only settings this system's own plugins declare may be applied to it.
    client = DistributedOptimizationNetwork(
        config.network, whitelist=Whitelist.from_plugins(plugins)
    )
    client.start(config)
    return client
