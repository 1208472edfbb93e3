"""Qiskit-native interfaces to a distributed system.

* :class:`Sampler` - a ``BaseSamplerV2``: PUBs with parameter arrays, one
  ``BitArray`` per classical register;
* :class:`Estimator` - a ``BaseEstimatorV2``: observable arrays broadcast
  against parameter arrays, standard errors, exact values at precision 0;
* :class:`DistributedBackend` - a ``BackendV2`` with a ``Target`` over the
  network's data qubits, for ``transpile`` and ``backend.run``.

Each takes a :class:`~qdframe.config.SystemConfig`, the path of a TOML
configuration or a :class:`~qdframe.DistributedSystem`. See ``docs/qiskit.md``.
"""

from __future__ import annotations

from qdframe.qiskit._backend import DistributedBackend
from qdframe.qiskit._estimator import Estimator
from qdframe.qiskit._sampler import Sampler

__all__ = ["DistributedBackend", "Estimator", "Sampler"]
