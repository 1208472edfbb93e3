"""qdframe's classical and hybrid communication modes, on qiskit-addon-cutting.

Needs the ``cutting`` extra: ``pip install "qdframe[cutting]"``.

* :func:`run_classical` - cut a circuit so every piece fits one node, run the
  sub-experiments through the executor and reconstruct expectation values;
* :func:`run_hybrid` - carry out a distributed program whose hybrid-mode
  bursts were cut (``CUT`` operations) and the rest lowered to EPR protocols.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
    from qdframe_cutting.classical import (
        CutPlan,
        CuttingResult,
        SamplingOverheadError,
        cut_for_nodes,
        run_classical,
    )
    from qdframe_cutting.hybrid import run_hybrid

__all__ = [
    "CutPlan",
    "CuttingResult",
    "SamplingOverheadError",
    "cut_for_nodes",
    "run_classical",
    "run_hybrid",
]

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CutPlan": "qdframe_cutting.classical",
        "CuttingResult": "qdframe_cutting.classical",
        "SamplingOverheadError": "qdframe_cutting.classical",
        "cut_for_nodes": "qdframe_cutting.classical",
        "run_classical": "qdframe_cutting.classical",
        "run_hybrid": "qdframe_cutting.hybrid",
    },
)
