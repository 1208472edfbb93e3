"""The error mitigators raise when their input cannot be mitigated."""

from __future__ import annotations

from qdframe.plugin import EXIT_USAGE, QdframeError

__all__ = ["MitigationError"]


class MitigationError(QdframeError, ValueError):
    """Counts, a circuit or an observable that a mitigator cannot work with.

    Raised for counts over qubits that were never calibrated, a readout too
    noisy to invert, a circuit that is not unitary where one is needed, or an
    observable that is not a real combination of Pauli strings. The input must
    change, hence exit code 2.
    """

    exit_code = EXIT_USAGE
