"""The optimization-sharing network: client, schemas and (optional) server.

Installations share the runtime settings that made qdframe fastest on their
hardware. The client and the document schemas need only qdframe's own
dependencies; the server (:mod:`qdframe.network.server`) needs the ``server``
extra and is never imported from here.
"""

from __future__ import annotations

from qdframe.network.apply import SettingChange, apply_settings, current_settings
from qdframe.network.client import DistributedOptimizationNetwork, FlushResult
from qdframe.network.errors import ContributionRejected, NetworkError
from qdframe.network.matching import MatchLevel, SystemMatch, closest_match
from qdframe.network.schemas import (
    WORKLOAD_CLASSES,
    ContributeResponse,
    ContributionIn,
    SharedOptimizationsResponse,
    StatusResponse,
    SyncResponse,
    SystemOptimization,
    WorkloadContribution,
)
from qdframe.network.state import StatePaths, install_token
from qdframe.network.whitelist import Whitelist

__all__ = [
    "WORKLOAD_CLASSES",
    "ContributeResponse",
    "ContributionIn",
    "ContributionRejected",
    "DistributedOptimizationNetwork",
    "FlushResult",
    "MatchLevel",
    "NetworkError",
    "SettingChange",
    "SharedOptimizationsResponse",
    "StatePaths",
    "StatusResponse",
    "SyncResponse",
    "SystemMatch",
    "SystemOptimization",
    "Whitelist",
    "WorkloadContribution",
    "apply_settings",
    "closest_match",
    "current_settings",
    "install_token",
]
