"""What the core does with the recovery action the error handlers chose.

:class:`Recovery` is the ``recover`` function of
:meth:`qdframe.pipeline.StageRunner.run_with_recovery`: it marks the failed
nodes and links down (in the full network's ids, whatever part of it the
failed plan used), tells the link learner, waits the action's delay and then
either asks for another attempt (retry, re-route, reallocate), ends the run
with the original circuit on the local simulator (classical fallback) or
re-raises the stage's error (abort).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from qdframe.context import RecoveryAction, RecoveryKind

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins
    from qdframe.resources import ResourceManager
    from qdframe.stages.state import RunState

__all__ = ["Recovery", "classical_fallback"]


class _Failure(Protocol):
    """What recovery reads of a :class:`qdframe.pipeline.StageFailed`."""

    @property
    def error(self) -> BaseException: ...

    @property
    def action(self) -> RecoveryAction: ...


@dataclass(frozen=True)
class Recovery:
    """Carry out a recovery action (see the module docstring).

    :param plugins: the plugin set (the fallback's backend).
    :param resources: where failed nodes and links are marked down.
    :param learner: the adaptive link learner, told of failed links (optional).
    """

    plugins: LoadedPlugins
    resources: ResourceManager
    learner: Any = None

    def __call__(self, failure: _Failure, state: RunState) -> RunState | None:
        action = failure.action
        for node in action.exclude_nodes:
            self.resources.mark_node_down(node)
        for a, b in action.exclude_links:
            self.resources.mark_link_down(a, b)
            if self.learner is not None:
                self.learner.observe(a, b, failed=True)
        if action.kind is RecoveryKind.ABORT:
            raise failure.error
        if action.delay_s > 0:
            time.sleep(action.delay_s)
        if action.kind is RecoveryKind.FALLBACK_CLASSICAL:
            return classical_fallback(self.plugins, state, action.reason)
        return None


def classical_fallback(plugins: LoadedPlugins, state: RunState, reason: str) -> RunState:
    """Run the measured original on the local simulator; mark the result as a fallback."""
    from qdframe.backend import DEFAULT_BACKEND, get_backend
    from qdframe.execution import marginal_counts

    prepared = state.require_prepared()
    backend = get_backend(DEFAULT_BACKEND, plugins=plugins)
    result = backend.run(prepared, shots=state.shots, seed=state.seed, noise=state.noise).single()
    state.context.notes.append(f"classical fallback: {reason}")
    # Nothing of the failed attempt is kept: its plan did not produce these counts.
    return state.replace(
        counts=marginal_counts(result.counts, list(range(prepared.num_clbits))),
        backend=DEFAULT_BACKEND,
        fallback_reason=reason,
        available=None,
        plan=None,
        routes=None,
        program=None,
        schedule=None,
        executable=None,
    )
