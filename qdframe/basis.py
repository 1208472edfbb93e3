"""Rewriting circuits into a gate basis without ``qiskit.transpile``.

``transpile()`` builds its stages through Qiskit's transpiler-plugin entry
points, and loading those imports every installed Qiskit plugin (with
``qiskit-addon-cutting`` that is ``qiskit_ibm_runtime``): seconds of CPU before
the first gate is touched. Planning needs only what ``transpile(...,
optimization_level=0)`` does without a coupling map: synthesise unitaries and
high-level objects, then translate through the equivalence library. This
module runs exactly those passes, so no gate is merged or cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import PassManager

__all__ = ["translate_to_basis"]


@lru_cache(maxsize=8)
def _pass_manager(basis: tuple[str, ...]) -> PassManager:
    from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES
    from qiskit.circuit.equivalence_library import SessionEquivalenceLibrary
    from qiskit.transpiler import PassManager
    from qiskit.transpiler.passes import BasisTranslator, HighLevelSynthesis, UnitarySynthesis

    # transpile() adds the control-flow names to the target basis so that the
    # translator keeps if_else/for_loop/... and rewrites the gates inside them.
    gates = list(dict.fromkeys([*basis, *CONTROL_FLOW_OP_NAMES]))
    return PassManager(
        [
            UnitarySynthesis(basis_gates=gates),
            HighLevelSynthesis(
                equivalence_library=SessionEquivalenceLibrary,
                basis_gates=gates,
                use_qubit_indices=True,
            ),
            BasisTranslator(SessionEquivalenceLibrary, gates),
        ]
    )


def translate_to_basis(circuit: QuantumCircuit, basis: Sequence[str]) -> QuantumCircuit:
    """``circuit`` rewritten into ``basis`` gates (plus measure, reset, barrier, delay).

    Equivalent to ``transpile(circuit, basis_gates=basis, optimization_level=0)``
    on a circuit without a coupling map, without loading transpiler plugins.

    :raises qiskit.transpiler.TranspilerError: a gate has no translation into
        ``basis``.
    """
    return _pass_manager(tuple(basis)).run(circuit)
