"""Energy measurement where the host exposes it (Linux RAPL under /sys/class/powercap).

Most machines (macOS, virtual machines, Linux without read access to RAPL)
expose nothing; then savings are time-based and labelled so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["POWERCAP", "EnergyMeter"]

POWERCAP = Path("/sys/class/powercap")


@dataclass(frozen=True)
class _Domain:
    energy: Path
    max_range_uj: int


class EnergyMeter:
    """Sums the package energy counters of every CPU socket (microjoules)."""

    def __init__(self, domains: list[_Domain]) -> None:
        self._domains = domains

    @classmethod
    def detect(cls, root: Path = POWERCAP) -> EnergyMeter | None:
        """A meter over the readable RAPL package domains, or ``None`` when there are none."""
        domains: list[_Domain] = []
        try:
            candidates = sorted(root.glob("intel-rapl:*"))
        except OSError:
            return None
        for zone in candidates:
            if zone.name.count(":") != 1:
                continue  # sub-zones (core, uncore, dram) are inside the package
            try:
                name = (zone / "name").read_text().strip()
                int((zone / "energy_uj").read_text())
                max_range = int((zone / "max_energy_range_uj").read_text())
            except (OSError, ValueError):
                continue
            if name.startswith("package"):
                domains.append(_Domain(zone / "energy_uj", max_range))
        return cls(domains) if domains else None

    def read(self) -> tuple[int, ...]:
        """The raw counters, one per domain."""
        return tuple(int(d.energy.read_text()) for d in self._domains)

    def joules_between(self, before: tuple[int, ...], after: tuple[int, ...]) -> float:
        """Energy used between two readings, allowing for counter wrap-around."""
        total = 0
        for domain, start, end in zip(self._domains, before, after, strict=True):
            delta = end - start
            if delta < 0:
                delta += domain.max_range_uj
            total += delta
        return total / 1e6
