"""The compiled form of a circuit that the engine executes.

A :class:`Program` is a flat list of instructions with jumps for classical
conditions. Runs of gates between non-unitary instructions are fused into
:class:`DenseBlock` and :class:`DiagonalBlock` instructions; everything that
can make the state random (measurement, reset, noise, readout errors) is a
*branch point*: the engine computes the outcome probabilities and splits the
shots among the outcomes.

Qubit tuples inside instructions are in descending order and matrices use the
matching big-endian index: bit ``k - 1 - i`` of a row index is the value of
``qubits[i]``. This is the order in which the qubits appear as axes when the
state is reshaped to a tensor, so kernels need no bit reversal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "Branch",
    "Complex",
    "ConditionalJump",
    "DenseBlock",
    "DiagonalBlock",
    "Instruction",
    "Jump",
    "KrausChannel",
    "Measure",
    "Program",
    "ReadoutFlip",
    "Reset",
    "TerminalMeasure",
    "UnitaryMixture",
]

Complex: TypeAlias = npt.NDArray[np.complexfloating[Any, Any]]


@dataclass(frozen=True)
class DenseBlock:
    """A unitary on ``qubits`` (descending), as a dense matrix."""

    qubits: tuple[int, ...]
    matrix: Complex
    gates: int = 1


@dataclass(frozen=True)
class DiagonalBlock:
    """A diagonal unitary on ``qubits`` (descending), as its diagonal."""

    qubits: tuple[int, ...]
    phases: Complex
    gates: int = 1


@dataclass(frozen=True)
class Measure:
    """Projective measurement of ``qubit`` into classical bit ``clbit``."""

    qubit: int
    clbit: int


@dataclass(frozen=True)
class Reset:
    """Reset ``qubit`` to ``|0⟩``."""

    qubit: int


@dataclass(frozen=True)
class UnitaryMixture:
    """Apply ``unitaries[i]`` with probability ``probabilities[i]``.

    ``None`` stands for the identity, so the common no-error outcome costs
    nothing.
    """

    qubits: tuple[int, ...]
    unitaries: tuple[Complex | None, ...]
    probabilities: tuple[float, ...]


@dataclass(frozen=True)
class KrausChannel:
    """A single-qubit channel given by Kraus operators (2x2 each)."""

    qubit: int
    operators: tuple[Complex, ...]


@dataclass(frozen=True)
class ReadoutFlip:
    """Flip the recorded bit ``clbit`` with a probability that depends on its value."""

    clbit: int
    prob_meas1_prep0: float
    prob_meas0_prep1: float


@dataclass(frozen=True)
class ConditionalJump:
    """Continue at ``target`` unless ``condition`` holds for the classical bits."""

    condition: Callable[[int], bool]
    target: int
    label: str = ""


@dataclass(frozen=True)
class Jump:
    """Continue at ``target``."""

    target: int


Branch: TypeAlias = Measure | Reset | UnitaryMixture | KrausChannel | ReadoutFlip
Instruction: TypeAlias = DenseBlock | DiagonalBlock | Branch | ConditionalJump | Jump


@dataclass(frozen=True)
class TerminalMeasure:
    """A measurement that nothing follows: sampled from the final state."""

    qubit: int
    clbit: int
    prob_meas1_prep0: float = 0.0
    prob_meas0_prep1: float = 0.0


@dataclass
class Program:
    """A circuit ready to execute.

    :param num_qubits: width of the state.
    :param num_clbits: number of classical bits.
    :param instructions: what to execute, in order (with jumps).
    :param terminal: measurements sampled from the final state.
    :param global_phase: phase of the whole circuit, applied to a returned state.
    :param has_measurements: whether any measurement exists (terminal or not).
    :param has_noise: whether noise instructions were inserted.
    :param gate_count: gates before fusion.
    """

    num_qubits: int
    num_clbits: int
    instructions: list[Instruction]
    terminal: list[TerminalMeasure] = field(default_factory=list)
    global_phase: float = 0.0
    has_measurements: bool = False
    has_noise: bool = False
    gate_count: int = 0

    @property
    def branch_points(self) -> int:
        """Instructions at which the shots may split."""
        return sum(
            isinstance(ins, Measure | Reset | UnitaryMixture | KrausChannel | ReadoutFlip)
            for ins in self.instructions
        )

    @property
    def blocks(self) -> list[DenseBlock | DiagonalBlock]:
        return [ins for ins in self.instructions if isinstance(ins, DenseBlock | DiagonalBlock)]

    @property
    def widest_block(self) -> int:
        widths = [len(block.qubits) for block in self.blocks]
        return max(widths, default=0)
