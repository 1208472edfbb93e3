"""Conformance kit for hardware profiles: valid fields, a host that is the
profile finds it, the capabilities fit the memory, the settings apply.

A profile is registered as the object itself
(``registry.add(profile.system_type, profile)``). Capability it may declare:

``matchable`` (default ``True``)
    a host with the profile's OS, architecture, cores and memory whose CPU
    brand fits one of its ``brand_patterns`` is matched to it at level
    ``exact``. Generic fallback profiles, which name no brand, declare
    ``False``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from qdframe.backend import PRECISIONS
from qdframe.config import SystemConfig
from qdframe.testing._kit import CheckSkipped, Kit

__all__ = ["HardwareProfileKit"]


def _brand_for(pattern: str) -> str:
    """A brand string the shell-style ``pattern`` matches (``*`` empty, ``?`` one letter)."""
    text = re.sub(r"\[([^\]!])[^\]]*\]", r"\1", pattern)
    return text.replace("*", "").replace("?", "x")


class HardwareProfileKit(Kit):
    """Checks a :class:`qdframe_hal.HardwareProfile` object."""

    category: ClassVar[str] = "hardware_profiles"
    capability_defaults: ClassVar[dict[str, Any]] = {"matchable": True}

    def _profile(self) -> Any:
        from qdframe_hal import HardwareProfile

        profile = self.subject
        assert isinstance(profile, HardwareProfile), (
            f"{type(profile).__name__} is not a qdframe_hal.HardwareProfile"
        )
        return profile

    # ------------------------------------------------------------------ checks

    def check_is_a_valid_profile(self) -> None:
        """A HardwareProfile that validates again from its own fields, named as registered."""
        profile = self._profile()
        if self.name != profile.system_type and self.name != type(profile).__qualname__:
            raise AssertionError(
                f"registered as {self.name!r} but its system_type is {profile.system_type!r}"
            )
        computed = set(type(profile).model_computed_fields)
        data = profile.model_dump(exclude=computed)
        again = type(profile).model_validate(data)
        assert again == profile, "the profile does not survive model_dump/model_validate"
        type(profile).model_validate_json(profile.model_dump_json(exclude=computed))

    def check_cores_and_memory_are_consistent(self) -> None:
        """Cores add up, memory options include the memory, variants fit the cores."""
        profile = self._profile()
        assert profile.performance_cores + profile.efficiency_cores == profile.cores
        if profile.memory_options_bytes:
            assert profile.memory_bytes in profile.memory_options_bytes, (
                f"memory_bytes {profile.memory_bytes} is not among memory_options_bytes "
                f"{list(profile.memory_options_bytes)}"
            )
        for variant in profile.variants:
            assert variant.performance_cores >= 1, f"variant {variant.label!r} has no cores"

    def check_capabilities_fit_the_memory(self) -> None:
        """The largest statevector it claims fits its memory; complex64 fits at least as many."""
        profile = self._profile()
        caps = profile.capabilities.max_statevector_qubits
        assert set(caps) == set(PRECISIONS), f"max_statevector_qubits names {sorted(caps)}"
        for precision, qubits in caps.items():
            need = 2**qubits * PRECISIONS[precision]
            assert need <= profile.memory_bytes, (
                f"{qubits} qubits at {precision} need {need} bytes, the profile has "
                f"{profile.memory_bytes}"
            )
        assert caps["complex64"] >= caps["complex128"]

    def check_recommended_settings_apply(self) -> None:
        """Every recommended setting is a configuration key that accepts the value."""
        profile = self._profile()
        settings = dict(profile.recommended_settings)
        assert settings, "a profile recommends at least a backend and a worker count"
        for key, value in settings.items():
            block, _, field = key.partition(".")
            if block == "backend":
                continue  # backend options are checked by the backend that reads them
            blocks = SystemConfig.model_fields
            assert block in blocks and field, f"recommended setting {key!r} is no config key"
            try:
                SystemConfig.model_validate({block: {field: value}})
            except Exception as error:
                raise AssertionError(
                    f"recommended {key} = {value!r} is rejected: {error}"
                ) from None

    def check_a_host_like_it_matches_it(self) -> None:
        """A host with its OS, architecture, brand, cores and memory matches it exactly."""
        from qdframe_hal import HostInfo, match_profile

        self.need("matchable")
        profile = self._profile()
        if not profile.brand_patterns:
            raise CheckSkipped("the profile names no CPU brand")
        others: list[Any] = []
        if self.plugins is not None:
            from qdframe_hal import all_profiles

            others = [p for p in all_profiles(self.plugins) if p.system_type != profile.system_type]
        for pattern in profile.brand_patterns:
            if "[!" in pattern:
                continue  # a negated class names no letter to build a brand from
            host = HostInfo(
                os=profile.os,
                cpu_arch=profile.cpu_arch,
                cpu_brand=_brand_for(pattern),
                performance_cores=profile.performance_cores,
                efficiency_cores=profile.efficiency_cores,
                cores=profile.cores,
                logical_cpus=profile.cores,
                memory_bytes=profile.memory_bytes,
            )
            match = match_profile(host, [profile, *others])
            assert match.level == "exact" and match.profile.system_type == profile.system_type, (
                f"a {profile.os}/{profile.cpu_arch} host with CPU brand {host.cpu_brand!r} "
                f"(from brand pattern {pattern!r}) matched {match.profile.system_type!r} at "
                f"level {match.level!r}"
            )
