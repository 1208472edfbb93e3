"""The JSON documents the sharing network exchanges, as pydantic models.

Response shapes follow the source document's API (``available_optimizations``,
``recommended_for_system``, ``network_status``, ...). "Energy savings" there
are qdframe workload savings here: the relative reduction of the time (and of
the energy, where the host measures it) that the tuned settings gave over the
defaults. ``process_optimizations`` are results per workload class of the
tuning suite.

A contribution is validated strictly: unknown keys are rejected, numbers are
not coerced from strings, and free text is limited to identifiers so that no
personal data can travel in it.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "MAX_SETTINGS",
    "SCHEMA_VERSION",
    "WORKLOAD_CLASSES",
    "ContributeResponse",
    "ContributedData",
    "ContributionIn",
    "CurrentSystem",
    "FieldError",
    "HealthResponse",
    "NetworkStatus",
    "Problem",
    "RegistrationChallenge",
    "RegistrationIn",
    "RegistrationResponse",
    "Servers",
    "SettingKey",
    "SettingValue",
    "SharedOptimizationsResponse",
    "StatusResponse",
    "SyncResponse",
    "SystemOptimization",
    "WorkloadClass",
    "WorkloadContribution",
    "WorkloadOptimization",
]

#: Version of the contribution document; bumped on incompatible changes.
SCHEMA_VERSION: Final = 1

#: Workload classes of the tuning suite. A fixed vocabulary: contributions
#: name these and nothing else, so no program or file name can be shared.
WORKLOAD_CLASSES: tuple[str, ...] = ("qft", "ghz", "random")

#: Most settings one contribution may carry.
MAX_SETTINGS = 64

WorkloadClass = Literal["qft", "ghz", "random"]

SettingKey = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_][a-z0-9_\-]*)+$", max_length=128)
]
#: A setting value as JSON carries it. Strings are bounded so that a value can
#: only be one of the short choices plugins declare.
SettingValue = bool | int | float | Annotated[str, StringConstraints(max_length=64)] | None

SystemType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,63}$")]
Version = Annotated[str, StringConstraints(pattern=r"^[0-9][0-9A-Za-z.+!\-]{0,31}$")]
InstallToken = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
Percent = Annotated[float, Field(ge=-100.0, le=100.0, allow_inf_nan=False)]


class _Strict(BaseModel):
    """Input documents: unknown keys rejected, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Out(BaseModel):
    """Output documents: a newer server may add keys, an older client ignores them."""

    model_config = ConfigDict(extra="ignore")


# --------------------------------------------------------------------------
# Contribution (client → server)
# --------------------------------------------------------------------------


class WorkloadContribution(_Strict):
    """The tuned result for one workload class."""

    savings: Percent = Field(description="Relative time reduction for this class, in percent.")
    settings: dict[SettingKey, SettingValue] = Field(
        default_factory=dict,
        max_length=MAX_SETTINGS,
        description="The settings that were fastest for this class.",
    )


class ContributionIn(_Strict):
    """One tuning result, as an installation shares it.

    Contains no host name, user name, address or serial number: the install
    token is random and created on first use.
    """

    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="Document version.")
    install_token: InstallToken = Field(
        description="Random 128-bit token of the installation (hex), for per-contributor medians."
    )
    qdframe_version: Version = Field(description="qdframe version that produced the result.")
    system_type: SystemType = Field(description="HAL profile id, e.g. apple_silicon_m3_pro.")
    suite: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_\-]{0,31}$")] = Field(
        "standard", description="Workload suite the result was measured with."
    )
    savings: Percent = Field(description="Overall relative time reduction, in percent.")
    energy_savings: Percent | None = Field(
        None, description="Overall relative energy reduction where the host measures energy."
    )
    quantum_advantage: bool = Field(
        description="Whether the tuned settings beat the defaults beyond measurement noise."
    )
    settings: dict[SettingKey, SettingValue] = Field(
        default_factory=dict, max_length=MAX_SETTINGS, description="Overall fastest settings."
    )
    workloads: dict[WorkloadClass, WorkloadContribution] = Field(
        default_factory=dict, description="Results per workload class."
    )


# --------------------------------------------------------------------------
# Registration (client ↔ server)
# --------------------------------------------------------------------------


class RegistrationChallenge(_Out):
    """``GET /api/network/register``: a puzzle to solve before registering."""

    challenge: str
    difficulty_bits: int = Field(
        description="Leading zero bits sha256(challenge + ':' + nonce) must have (0: none)."
    )
    expires_at: int = Field(description="Unix time after which the challenge is refused.")
    algorithm: Literal["sha256-leading-zero-bits"] = "sha256-leading-zero-bits"


class RegistrationIn(_Strict):
    """``POST /api/network/register``: a solved challenge."""

    challenge: Annotated[
        str,
        StringConstraints(pattern=r"^c1\.[0-9]{1,12}\.[0-9a-f]{32}\.[0-9]{1,2}\.[0-9a-f]{64}$"),
    ] = Field(description="The challenge from GET /api/network/register, unchanged.")
    nonce: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")] = Field(
        description="Decimal nonce solving the proof of work."
    )


class RegistrationResponse(_Out):
    """An identity issued by the server."""

    install_token: str = Field(description="The installation's id; contributions carry it.")
    token: str = Field(description="Bearer token for the Authorization header of contributions.")
    token_type: Literal["Bearer"] = "Bearer"


class ContributedData(_Out):
    """What the server recorded (seed: ``contributed_data``)."""

    energy_savings: float = Field(
        description="Energy savings where measured, otherwise the time savings (see basis)."
    )
    savings_basis: Literal["time", "energy"]
    time_savings: float
    quantum_advantage: bool
    processes_count: int = Field(description="Number of workload classes in the contribution.")


class ContributeResponse(_Out):
    success: bool
    message: str
    contributed_data: ContributedData


# --------------------------------------------------------------------------
# Aggregated view (server → client)
# --------------------------------------------------------------------------


class WorkloadOptimization(_Out):
    """Aggregate for one workload class (seed: an entry of ``process_optimizations``)."""

    average_savings: float
    optimization_count: int
    contributor_count: int
    recommended_settings: dict[str, SettingValue] = Field(default_factory=dict)


class SystemOptimization(_Out):
    """Aggregate for one system type and qdframe version (seed: optimization data)."""

    system_type: str
    qdframe_version: str
    average_savings: float = Field(description="Robust median of per-contributor time savings.")
    savings_basis: Literal["time"] = "time"
    average_energy_savings: float | None = None
    optimization_count: int
    quantum_advantage_rate: float
    last_updated: int
    contributor_count: int
    recommended_settings: dict[str, SettingValue] = Field(default_factory=dict)
    process_optimizations: dict[str, WorkloadOptimization] = Field(default_factory=dict)


class NetworkStatus(_Out):
    enabled: bool
    network_available: bool
    last_sync: int | None
    cached_optimizations: int
    auto_sync_enabled: bool


class SharedOptimizationsResponse(_Out):
    """``GET /api/shared-optimizations``."""

    available_optimizations: list[SystemOptimization]
    recommended_for_system: SystemOptimization | None = None
    total_systems_sharing: int
    network_status: NetworkStatus
    current_system_type: str | None = None
    qdframe_version: str
    min_contributors: int
    total_available: int | None = Field(
        None, description="Published system types in all pages together."
    )
    offset: int = 0
    limit: int | None = None
    next_offset: int | None = Field(None, description="Offset of the next page; null on the last.")


class SyncResponse(_Out):
    """``POST /api/network/sync``."""

    success: bool
    message: str
    optimizations_fetched: int
    optimizations_applied: bool
    last_sync: int | None


class CurrentSystem(_Out):
    type: str | None
    optimizations_available: bool
    optimization_data: SystemOptimization | None = None
    match_level: str | None = None


class Servers(_Out):
    primary: str
    backups: list[str] = Field(default_factory=list)


class StatusResponse(_Out):
    """``GET /api/network/status``."""

    network_status: NetworkStatus
    current_system: CurrentSystem
    servers: Servers


class HealthResponse(_Out):
    status: Literal["ok"]
    qdframe_version: str
    database: str
    contributions: int


class FieldError(_Out):
    loc: list[str | int]
    msg: str
    type: str | None = None


class Problem(_Out):
    """An error as ``application/problem+json`` (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
