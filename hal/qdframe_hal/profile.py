"""What a kind of machine is: the :class:`HardwareProfile` model and its parts.

Profiles are data. The HAL ships generic ones as TOML (see
:mod:`qdframe_hal.loader`), plugins register more through
``qdframe_register_hardware_profiles``. Two fields are derived rather than
stored, so they can never disagree with the hardware they describe:
``capabilities`` (from memory and GPUs, rules in :mod:`qdframe_hal.capacity`)
and ``recommended_settings`` (size-derived defaults overlaid with the
profile's ``setting_overrides``).
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from qdframe_hal.capacity import (
    GPU_MEMORY_FRACTION,
    GPU_WORKSPACE_FACTOR,
    PRECISIONS,
    SettingValue,
    derived_settings,
    max_statevector_qubits,
)

__all__ = [
    "CpuArch",
    "GPUInfo",
    "HardwareProfile",
    "OperatingSystem",
    "ProfileCapabilities",
    "ProfileVariant",
]

CpuArch = Literal["arm64", "x86_64"]
OperatingSystem = Literal["macos", "linux"]

_SYSTEM_TYPE = re.compile(r"^[a-z][a-z0-9_]*$")
_NonNegative = Annotated[int, Field(ge=0)]
_Positive = Annotated[int, Field(gt=0)]
_Text = Annotated[str, Field(min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GPUInfo(_Frozen):
    """One GPU, measured on a host or described by a profile.

    :param vendor: ``"NVIDIA"``, ``"Apple"``, ``"AMD"``, ``"Intel"``.
    :param name: marketing name, e.g. ``"NVIDIA H100 80GB HBM3"``.
    :param memory_bytes: dedicated device memory; ``None`` when unknown or when
        the GPU shares system memory (``unified_memory``).
    :param compute_capability: CUDA compute capability such as ``"9.0"``.
    :param cores: GPU cores as the vendor counts them (Apple GPUs).
    :param unified_memory: the GPU uses system memory (Apple silicon, Intel iGPU).
    """

    vendor: _Text
    name: _Text
    memory_bytes: _Positive | None = None
    compute_capability: Annotated[str, Field(pattern=r"^\d+\.\d+$")] | None = None
    cores: _Positive | None = None
    unified_memory: bool = False

    @property
    def is_cuda(self) -> bool:
        """Whether CUDA simulators (Aer GPU, cuStateVec) can use this GPU."""
        return self.vendor.lower() == "nvidia"


class ProfileVariant(_Frozen):
    """One sold configuration of a chip (a binned core count, a model number).

    :param label: how people call it, e.g. ``"11-core CPU, 14-core GPU"``.
    :param brand_patterns: CPU brand strings (shell-style patterns) that
        identify this variant; empty when only the core counts tell it apart.
    :param memory_options_bytes: memory sold with this variant, when narrower
        than the profile's.
    :param memory_bandwidth_gb_per_s: when it differs from the profile's.
    """

    label: _Text
    performance_cores: _Positive
    efficiency_cores: _NonNegative = 0
    gpu_cores: _Positive | None = None
    brand_patterns: tuple[_Text, ...] = ()
    memory_options_bytes: tuple[_Positive, ...] = ()
    memory_bandwidth_gb_per_s: Annotated[float, Field(gt=0)] | None = None

    @property
    def cores(self) -> int:
        return self.performance_cores + self.efficiency_cores


class ProfileCapabilities(_Frozen):
    """What a profile's hardware can simulate (derived, never stored).

    :param max_statevector_qubits: largest statevector per precision in host
        (CPU or unified) memory.
    :param max_gpu_statevector_qubits: largest statevector per precision on the
        largest CUDA GPU; empty without one.
    :param cuda: a CUDA GPU is present.
    :param unified_memory: the GPU shares host memory.
    """

    max_statevector_qubits: dict[str, int]
    max_gpu_statevector_qubits: dict[str, int]
    cuda: bool
    unified_memory: bool


class HardwareProfile(_Frozen):
    """A kind of machine the HAL can match a host against.

    Memory is in bytes and core counts are physical cores. For a chip sold in
    several configurations the core counts are the top configuration, the
    others are listed in ``variants``, and ``memory_bytes`` is the smallest
    memory sold (so derived capabilities are never optimistic; a matched host
    replaces it with its measured memory).

    :param system_type: stable id, also the registry name, e.g.
        ``"apple_silicon_m3_pro"``; lowercase letters, digits and ``_``.
    :param brand_patterns: CPU brand strings (shell-style patterns, matched
        case-sensitively against the whole string) that identify this profile
        exactly, e.g. ``"Apple M3 Pro"``.
    :param family_patterns: brand strings of the same family, used when no
        profile matches exactly (``"Apple M*"`` catches a future chip).
    :param setting_overrides: recommended settings that differ from the
        size-derived ones (see :func:`qdframe_hal.capacity.derived_settings`).
    """

    system_type: Annotated[str, Field(min_length=1)]
    vendor: _Text
    family: _Text
    os: OperatingSystem
    cpu_arch: CpuArch
    cpu_model: _Text
    performance_cores: _Positive
    efficiency_cores: _NonNegative = 0
    cores: _Positive
    memory_bytes: _Positive
    memory_options_bytes: tuple[_Positive, ...] = ()
    memory_bandwidth_gb_per_s: Annotated[float, Field(gt=0)] | None = None
    gpus: tuple[GPUInfo, ...] = ()
    brand_patterns: tuple[_Text, ...] = ()
    family_patterns: tuple[_Text, ...] = ()
    variants: tuple[ProfileVariant, ...] = ()
    setting_overrides: dict[str, SettingValue] = Field(default_factory=dict)
    description: str = ""

    @field_validator("system_type")
    @classmethod
    def _check_system_type(cls, value: str) -> str:
        if not _SYSTEM_TYPE.match(value):
            raise ValueError(
                f"must start with a lowercase letter and use only a-z, 0-9 and '_' (got {value!r})"
            )
        return value

    @field_validator("memory_options_bytes")
    @classmethod
    def _sorted_options(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(sorted(set(value)))

    @field_validator("setting_overrides")
    @classmethod
    def _check_setting_keys(cls, value: dict[str, SettingValue]) -> dict[str, SettingValue]:
        for key in value:
            if not re.match(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", key):
                raise ValueError(
                    f"setting key {key!r} must be a dotted lowercase path such as "
                    "'acceleration.precision'"
                )
        return value

    @model_validator(mode="after")
    def _check_cores(self) -> HardwareProfile:
        if self.performance_cores + self.efficiency_cores != self.cores:
            raise ValueError(
                f"cores ({self.cores}) must equal performance_cores "
                f"({self.performance_cores}) + efficiency_cores ({self.efficiency_cores})"
            )
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def capabilities(self) -> ProfileCapabilities:
        """Derived from ``memory_bytes`` and ``gpus`` (rules in :mod:`qdframe_hal.capacity`)."""
        host: dict[str, int] = {p: max_statevector_qubits(self.memory_bytes, p) for p in PRECISIONS}
        cuda_memory = [g.memory_bytes for g in self.gpus if g.is_cuda and g.memory_bytes]
        gpu: dict[str, int] = {}
        if cuda_memory:
            gpu = {
                p: max_statevector_qubits(
                    max(cuda_memory),
                    p,
                    fraction=GPU_MEMORY_FRACTION,
                    workspace_factor=GPU_WORKSPACE_FACTOR,
                )
                for p in PRECISIONS
            }
        return ProfileCapabilities(
            max_statevector_qubits=host,
            max_gpu_statevector_qubits=gpu,
            cuda=any(g.is_cuda for g in self.gpus),
            unified_memory=any(g.unified_memory for g in self.gpus),
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recommended_settings(self) -> dict[str, SettingValue]:
        """Size-derived settings with ``setting_overrides`` applied on top."""
        settings = derived_settings(
            performance_cores=self.performance_cores,
            cores=self.cores,
            memory_bytes=self.memory_bytes,
            cuda=any(g.is_cuda for g in self.gpus),
        )
        settings.update(self.setting_overrides)
        return settings

    def variant_for(
        self, *, brand: str | None, performance_cores: int | None, efficiency_cores: int | None
    ) -> ProfileVariant | None:
        """The variant a host is, by brand string first, then by core counts.

        Returns ``None`` when no variant matches or several match equally.
        """
        if brand:
            by_brand = [
                v for v in self.variants if any(fnmatchcase(brand, p) for p in v.brand_patterns)
            ]
            if len(by_brand) == 1:
                return by_brand[0]
        if performance_cores is None:
            return None
        by_cores = [
            v
            for v in self.variants
            if v.performance_cores == performance_cores
            and (efficiency_cores is None or v.efficiency_cores == efficiency_cores)
        ]
        return by_cores[0] if len(by_cores) == 1 else None
