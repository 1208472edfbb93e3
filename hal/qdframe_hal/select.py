"""Choosing a registered backend that can run a circuit on this host.

Every backend in the ``backends`` registry is created once, with the options
the run will create it with (``options``), to read its
:class:`qdframe.backend.BackendCapabilities`; one whose factory raises (a GPU
build without a GPU, a missing library) is skipped and the reason recorded.
Given the circuit, a backend that offers ``preflight(circuit)`` is asked
whether it would run it, so the choice is never a backend that then refuses
the circuit for lack of memory. Among those that fit the requirements the order is:

1. a GPU-capable backend, when a GPU is wanted (``prefer_gpu`` or
   ``require_gpu``) and this host has a CUDA GPU;
2. ``numpy``, the default;
3. the backend that holds the most qubits at the requested precision, then
   by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qdframe.backend import BackendCapabilities
from qdframe.errors import ResourceError
from qdframe_hal.capacity import DEFAULT_BACKEND, Precision
from qdframe_hal.host import HostInfo

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins

__all__ = ["BackendChoice", "BackendRequirements", "BackendVerdict", "select_backend"]

_CONTROL_FLOW = frozenset({"if_else", "while_loop", "for_loop", "switch_case"})
_NOT_GATES = frozenset({"measure", "barrier", "delay"})


class BackendRequirements(BaseModel):
    """What a run needs from a backend.

    :param num_qubits: qubits of the (largest) circuit.
    :param precision: amplitude precision, ``"complex128"`` or ``"complex64"``.
    :param needs_noise: a noise model will be passed.
    :param needs_mid_circuit_measurement: a measured qubit is used again.
    :param needs_classical_conditions: the circuit has ``if_test`` blocks or
        other classical control flow.
    :param prefer_gpu: use a GPU-capable backend when this host has a GPU.
    :param require_gpu: fail unless a GPU-capable backend and a GPU are there.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    num_qubits: Annotated[int, Field(ge=0)]
    precision: Precision = "complex128"
    needs_noise: bool = False
    needs_mid_circuit_measurement: bool = False
    needs_classical_conditions: bool = False
    prefer_gpu: bool = False
    require_gpu: bool = False

    @classmethod
    def from_circuit(cls, circuit: Any, **options: Any) -> BackendRequirements:
        """Requirements read off a Qiskit ``QuantumCircuit``.

        Sets ``num_qubits``, ``needs_mid_circuit_measurement`` (a gate acts on
        a qubit after it was measured) and ``needs_classical_conditions``
        (control-flow instructions); ``options`` sets the other fields.
        """
        measured: set[Any] = set()
        mid_circuit = conditions = False
        for instruction in circuit.data:
            name = instruction.operation.name
            if name in _CONTROL_FLOW or getattr(instruction.operation, "condition", None):
                conditions = True
            if name == "measure":
                measured.update(instruction.qubits)
            elif name not in _NOT_GATES and measured.intersection(instruction.qubits):
                mid_circuit = True
        return cls(
            num_qubits=circuit.num_qubits,
            needs_mid_circuit_measurement=mid_circuit,
            needs_classical_conditions=conditions,
            **options,
        )


class BackendVerdict(BaseModel):
    """What the selection found out about one registered backend."""

    model_config = ConfigDict(frozen=True)

    name: str
    plugin: str
    fits: bool
    reason: str
    max_qubits: int | None = None
    devices: tuple[str, ...] = ()


class BackendChoice(BaseModel):
    """The backend chosen and why.

    :param backend: the registered name to pass to :func:`qdframe.get_backend`.
    :param device: ``"gpu"`` when the choice was made to use the host's GPU,
        else ``"cpu"``.
    :param max_qubits: the chosen backend's limit at the requested precision.
    :param reason: why it was chosen and why each other backend was not.
    :param verdicts: one entry per registered backend, chosen one first.
    """

    model_config = ConfigDict(frozen=True)

    backend: str
    plugin: str
    device: Literal["cpu", "gpu"]
    max_qubits: int
    reason: str
    verdicts: tuple[BackendVerdict, ...]


class _HostProbe:
    """The host, detected at most once and only when a GPU question comes up."""

    def __init__(self, host: HostInfo | None) -> None:
        self.host = host

    def has_gpu(self) -> bool:
        if self.host is None:
            from qdframe_hal.detect import detect_host

            self.host = detect_host()
        return self.host.has_cuda_gpu


@dataclass(frozen=True)
class _Candidate:
    name: str
    plugin: str
    capabilities: BackendCapabilities
    refusal: str = ""


def select_backend(
    requirements: BackendRequirements,
    *,
    plugins: LoadedPlugins,
    host: HostInfo | None = None,
    options: Callable[[str], Mapping[str, Any]] | None = None,
    circuit: Any = None,
) -> BackendChoice:
    """Pick the best registered backend for ``requirements`` on this host.

    :param plugins: the plugin set whose ``backends`` registry is searched.
    :param host: the host's measured facts; detected only when a GPU is wanted
        and no host is given.
    :param options: the factory options each backend (by name) will be
        created with for the run; none when omitted.
    :param circuit: the circuit to run; each fitting backend that offers
        ``preflight(circuit)`` must accept it.
    :raises ResourceError: no backend fits; the message gives the qubits needed
        and the largest any backend offers, and why each was turned down.
    """
    wants_gpu = requirements.prefer_gpu or requirements.require_gpu
    probe = _HostProbe(host)
    fitting, rejected, largest = _survey(plugins, requirements, probe, options, circuit)
    if not fitting:
        raise ResourceError(_nothing_fits(requirements, rejected, largest))

    has_gpu = probe.has_gpu() if wants_gpu else False
    use_gpu = wants_gpu and has_gpu
    fitting.sort(key=_ranker(requirements.precision, use_gpu))
    chosen = fitting[0]
    devices = chosen.capabilities.devices
    # A GPU-only backend runs on the GPU even when none was asked for.
    on_gpu = "gpu" in devices and (use_gpu or "cpu" not in devices)
    device: Literal["cpu", "gpu"] = "gpu" if on_gpu else "cpu"
    limit = chosen.capabilities.max_qubits[requirements.precision]
    why_chosen = _why_chosen(chosen, requirements, device, wants_gpu, has_gpu, probe.host)
    others = [
        BackendVerdict(
            name=c.name,
            plugin=c.plugin,
            fits=True,
            reason="also fits; ranked lower: "
            + _why_lower(c, chosen, use_gpu, requirements.precision),
            max_qubits=c.capabilities.max_qubits[requirements.precision],
            devices=c.capabilities.devices,
        )
        for c in fitting[1:]
    ]
    first = BackendVerdict(
        name=chosen.name,
        plugin=chosen.plugin,
        fits=True,
        reason=why_chosen,
        max_qubits=limit,
        devices=devices,
    )
    not_chosen = [f"{v.name}: {v.reason}" for v in (*others, *rejected)]
    reason = why_chosen + (" Not chosen: " + "; ".join(not_chosen) + "." if not_chosen else "")
    return BackendChoice(
        backend=chosen.name,
        plugin=chosen.plugin,
        device=device,
        max_qubits=limit,
        reason=reason,
        verdicts=(first, *others, *rejected),
    )


def _survey(
    plugins: LoadedPlugins,
    requirements: BackendRequirements,
    probe: _HostProbe,
    options: Callable[[str], Mapping[str, Any]] | None,
    circuit: Any,
) -> tuple[list[_Candidate], list[BackendVerdict], tuple[int, str] | None]:
    """Backends that fit, verdicts on those that do not, and the largest (qubits, name)."""
    fitting: list[_Candidate] = []
    rejected: list[BackendVerdict] = []
    largest: tuple[int, str] | None = None
    for entry in plugins.registries.backends.entries():
        given = dict(options(entry.name)) if options is not None else {}
        candidate, problem = _inspect(entry.name, entry.plugin, entry.obj, given, circuit)
        if candidate is None:
            rejected.append(
                BackendVerdict(name=entry.name, plugin=entry.plugin, fits=False, reason=problem)
            )
            continue
        caps = candidate.capabilities
        limit = caps.max_qubits.get(requirements.precision)
        if limit is not None and (largest is None or limit > largest[0]):
            largest = (limit, entry.name)
        misfits = _misfits(caps, requirements, probe)
        if not misfits and candidate.refusal:
            misfits = [candidate.refusal]
        if misfits:
            rejected.append(
                BackendVerdict(
                    name=entry.name,
                    plugin=entry.plugin,
                    fits=False,
                    reason="; ".join(misfits),
                    max_qubits=limit,
                    devices=caps.devices,
                )
            )
        else:
            fitting.append(candidate)
    return fitting, rejected, largest


def _inspect(
    name: str, plugin: str, factory: Callable[..., Any], options: dict[str, Any], circuit: Any
) -> tuple[_Candidate | None, str]:
    try:
        backend = factory(**options)
    except Exception as exc:  # any failure means "not available here"
        return None, f"could not be created: {type(exc).__name__}: {exc}"
    caps = getattr(backend, "capabilities", None)
    if not isinstance(caps, BackendCapabilities):
        return None, (
            "does not declare capabilities as qdframe.backend.BackendCapabilities "
            f"(got {type(caps).__name__})"
        )
    refusal = ""
    preflight = getattr(backend, "preflight", None)
    if circuit is not None and callable(preflight):
        from qdframe.errors import ResourceError

        try:
            preflight(circuit)
        except ResourceError as exc:  # what run() would raise: not this backend
            refusal = f"would refuse this circuit: {exc}"
    return _Candidate(name, plugin, caps, refusal), ""


def _misfits(caps: BackendCapabilities, req: BackendRequirements, probe: _HostProbe) -> list[str]:
    problems = []
    limit = caps.max_qubits.get(req.precision)
    if limit is None:
        precisions = ", ".join(sorted(caps.max_qubits)) or "none"
        problems.append(f"does not offer {req.precision} (offers: {precisions})")
    elif limit < req.num_qubits:
        problems.append(f"holds at most {limit} qubits at {req.precision}, {req.num_qubits} needed")
    for needed, offered, what in (
        (req.needs_noise, caps.noise, "noise models"),
        (
            req.needs_mid_circuit_measurement,
            caps.mid_circuit_measurement,
            "mid-circuit measurement",
        ),
        (req.needs_classical_conditions, caps.classical_conditions, "classical conditions"),
    ):
        if needed and not offered:
            problems.append(f"does not support {what}")
    gpu_capable = "gpu" in caps.devices
    if req.require_gpu and not gpu_capable:
        problems.append("cannot run on a GPU (a GPU is required)")
    elif req.require_gpu and not probe.has_gpu():
        problems.append("a GPU is required but no CUDA GPU was detected on this host")
    elif "cpu" not in caps.devices and not probe.has_gpu():
        problems.append("runs only on a GPU and no CUDA GPU was detected on this host")
    return problems


def _ranker(precision: str, use_gpu: bool) -> Callable[[_Candidate], tuple[int, int, int, str]]:
    def rank(c: _Candidate) -> tuple[int, int, int, str]:
        gpu_first = 0 if use_gpu and "gpu" in c.capabilities.devices else 1
        default_first = 0 if c.name == DEFAULT_BACKEND else 1
        return (gpu_first, default_first, -c.capabilities.max_qubits[precision], c.name)

    return rank


def _why_chosen(
    chosen: _Candidate,
    req: BackendRequirements,
    device: str,
    wants_gpu: bool,
    has_gpu: bool,
    host: HostInfo | None,
) -> str:
    limit = chosen.capabilities.max_qubits[req.precision]
    fit = f"it runs {req.num_qubits} qubits at {req.precision} (up to {limit})"
    if device == "gpu":
        gpu = host.gpus[0].name if host is not None and host.gpus else "a CUDA GPU"
        why = "a GPU was wanted" if wants_gpu else "it runs only on a GPU"
        head = f"{chosen.name} on the GPU: {why} and this host has {gpu}; {fit}."
    elif chosen.name == DEFAULT_BACKEND:
        head = f"{chosen.name}: the default backend; {fit}."
    else:
        head = f"{chosen.name}: {fit}, the most of the backends that fit."
    if wants_gpu and not has_gpu:
        head += " No CUDA GPU was detected, so the CPU is used."
    elif wants_gpu and device != "gpu":
        head += " No GPU-capable backend fits, so the CPU is used."
    return head


def _why_lower(c: _Candidate, chosen: _Candidate, use_gpu: bool, precision: str) -> str:
    if use_gpu and "gpu" in chosen.capabilities.devices and "gpu" not in c.capabilities.devices:
        return "it cannot use the GPU"
    if chosen.name == DEFAULT_BACKEND:
        return f"{DEFAULT_BACKEND} is the default"
    mine, theirs = c.capabilities.max_qubits[precision], chosen.capabilities.max_qubits[precision]
    if mine < theirs:
        return f"holds fewer qubits ({mine} < {theirs})"
    return "same capacity, ordered by name"


def _nothing_fits(
    req: BackendRequirements,
    rejected: Iterable[BackendVerdict],
    largest: tuple[int, str] | None,
) -> str:
    rejected = list(rejected)
    if not rejected:
        return (
            "no simulator backend is registered; install a backend plugin "
            "(`qdframe plugins list` shows what loaded)"
        )
    need = f"{req.num_qubits} qubits at {req.precision}"
    if largest is None:
        available = "no backend offers that precision or could be created"
    else:
        available = f"the largest available is {largest[1]} with {largest[0]} qubits"
    details = "; ".join(f"{v.name}: {v.reason}" for v in rejected)
    return f"no registered backend can run {need}: {available}. Rejected: {details}."
