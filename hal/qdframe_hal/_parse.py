"""Parsers for the text that detection reads (pure functions, no I/O)."""

from __future__ import annotations

import re

from qdframe_hal.profile import GPUInfo

__all__ = [
    "first_line",
    "parse_cpuinfo",
    "parse_cpulist",
    "parse_int",
    "parse_meminfo_total",
    "parse_nvidia_smi",
]

_MIB = 2**20
_SIZE_UNITS = {"kib": 2**10, "mib": 2**20, "gib": 2**30, "kb": 2**10, "mb": 2**20, "gb": 2**30}


def first_line(text: str | None) -> str | None:
    """The first non-empty line, stripped, or ``None``."""
    if text is None:
        return None
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return None


def parse_int(text: str | None) -> int | None:
    """An integer from the first line of ``text``, or ``None`` when it is not one."""
    line = first_line(text)
    if line is None:
        return None
    try:
        return int(line)
    except ValueError:
        return None


def parse_cpuinfo(text: str) -> list[dict[str, str]]:
    """``/proc/cpuinfo`` as one dict per logical processor.

    Blocks without a ``processor`` key (the trailing ``Hardware``/``Serial``
    block some Arm kernels print) are dropped.
    """
    processors: list[dict[str, str]] = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if "processor" in fields:
            processors.append(fields)
    return processors


def parse_meminfo_total(text: str) -> int | None:
    """``MemTotal`` from ``/proc/meminfo`` in bytes (the kernel's ``kB`` is KiB)."""
    match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def parse_cpulist(text: str | None) -> set[int] | None:
    """A kernel CPU list such as ``"0-7,16-23"`` as a set of CPU numbers."""
    line = first_line(text)
    if line is None:
        return None
    cpus: set[int] = set()
    try:
        for part in line.split(","):
            low, _, high = part.partition("-")
            cpus.update(range(int(low), int(high or low) + 1))
    except ValueError:
        return None
    return cpus


def parse_nvidia_smi(text: str) -> list[GPUInfo]:
    """GPUs from ``nvidia-smi --query-gpu=name,memory.total[,compute_cap]
    --format=csv,noheader``.

    Each line is ``name, memory, compute_cap`` (the last field is absent for
    drivers that do not know it); ``[N/A]`` fields become ``None``. Memory is
    read with its unit (``81559 MiB``) or as MiB when ``nounits`` was used.
    """
    gpus: list[GPUInfo] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        # A GPU name may itself contain commas; the numeric fields never do,
        # so the fields are taken from the right.
        capability: str | None = None
        if len(fields) >= 3 and (_is_capability(fields[-1]) or _is_na(fields[-1])):
            capability = fields.pop() if _is_capability(fields[-1]) else None
            if capability is None:
                fields.pop()
        memory = _parse_size(fields.pop()) if len(fields) >= 2 else None
        gpus.append(
            GPUInfo(
                vendor="NVIDIA",
                name=", ".join(fields),
                memory_bytes=memory,
                compute_capability=capability,
            )
        )
    return gpus


def _is_na(field: str) -> bool:
    return field.strip("[]").upper() in {"N/A", "NOT SUPPORTED", ""}


def _is_capability(field: str) -> bool:
    return re.fullmatch(r"\d+\.\d+", field) is not None


def _parse_size(field: str) -> int | None:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([A-Za-z]*)", field.strip())
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2).lower()
    scale = _SIZE_UNITS.get(unit, _MIB) if unit else _MIB
    size = int(number * scale)
    return size if size > 0 else None
