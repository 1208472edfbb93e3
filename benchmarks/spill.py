"""A statevector kept in memory against one spilled to disk (``[memory] spill_to_disk``).

Run: ``python benchmarks/spill.py`` (``--help`` for the options).
For each width (20 to 24 qubits by default) the same circuit -- a Hadamard
layer, then ``--layers`` layers of a CX ring and RX rotations, measured --
runs twice on the numpy backend, each time in a child process of its own:
once with the default memory budget (the state in memory) and once with a
budget of a quarter of the state (at least 12 MiB, which the kernel buffers
and the compiled program need) and ``spill_to_disk`` on, so that the state
lives in a memory-mapped file in ``--spill-dir``. Both use the same seed and
must give the same counts (checked). Printed per run: wall time, CPU time of
the child (all threads), the child's peak resident set size (``ru_maxrss``,
which counts the mapped file's pages while they are resident) and the peak
of its anonymous memory (``RssAnon`` of ``/proc/self/status``, sampled every
5 ms), which is what the budget limits. The operating system keeps a
spilled state's pages in its page cache while memory is free, so on a host
with memory to spare the spilled run costs little more than writing the file
back; under memory pressure those pages are what it can drop.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any


def _circuit(n: int, layers: int) -> Any:
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(n)
    circuit.h(range(n))
    for layer in range(layers):
        for q in range(n):
            circuit.cx(q, (q + 1) % n)
        for q in range(n):
            circuit.rx(0.1 * (q + layer + 1), q)
    circuit.measure_all()
    return circuit


def _spill_budget(n: int) -> int:
    """A quarter of the state, and at least 12 MiB for the kernel buffers and program."""
    from qdframe.backend import statevector_bytes

    return max(statevector_bytes(n) // 4, 12 * 1024**2)


def _anon_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def _cell(n: int, layers: int, shots: int, spill_dir: str | None) -> dict[str, Any]:
    """One run in a fresh child process; ``spill_dir`` set means spill."""
    import qdframe as qd
    from qdframe.backend import statevector_bytes

    circuit = _circuit(n, layers)
    options: dict[str, Any] = {}
    if spill_dir is not None:
        options = {
            "max_memory_bytes": _spill_budget(n),
            "spill_to_disk": True,
            "spill_dir": spill_dir,
        }
    backend = qd.get_backend("numpy", **options)
    peak = [_anon_kib()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _anon_kib())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = backend.run(circuit, shots=shots, seed=7).single()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    done.set()
    sampler.join()
    peak[0] = max(peak[0], _anon_kib())
    return {
        "qubits": n,
        "mode": "spilled" if spill_dir is not None else "memory",
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_anon_mib": round(peak[0] / 1024, 1),
        "state_mib": statevector_bytes(n) / 1024**2,
        "budget_mib": options.get("max_memory_bytes", 0) / 1024**2 or None,
        "spill": result.metadata.get("spill"),
        "counts": result.counts,
    }


def _in_child(n: int, layers: int, shots: int, spill_dir: str | None) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_cell, n, layers, shots, spill_dir).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--qubits", type=int, nargs="+", default=[20, 22, 24])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--spill-dir", default=None, help="folder for the file (system temp)")
    parser.add_argument("--json", action="store_true", help="one JSON document")
    args = parser.parse_args()
    spill_dir = args.spill_dir or tempfile.gettempdir()
    rows = []
    for n in args.qubits:
        memory = _in_child(n, args.layers, args.shots, None)
        spilled = _in_child(n, args.layers, args.shots, spill_dir)
        if memory.pop("counts") != spilled.pop("counts"):
            raise SystemExit(f"{n} qubits: the spilled run's counts differ")
        assert spilled["spill"] is not None, "the spilled run did not spill"
        left = [p.name for p in Path(spill_dir).glob("qdframe-spill-*")]
        if left:
            raise SystemExit(f"spill folders left behind: {left}")
        rows += [memory, spilled]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"{'qubits':>6} {'mode':>8} {'state MiB':>9} {'wall s':>8} {'CPU s':>8} "
        f"{'peak RSS MiB':>12} {'peak anon MiB':>13}"
    )
    for row in rows:
        print(
            f"{row['qubits']:>6} {row['mode']:>8} {row['state_mib']:>9.0f} {row['wall_s']:>8.2f} "
            f"{row['cpu_s']:>8.2f} {row['peak_rss_mib']:>12.1f} {row['peak_anon_mib']:>13.1f}"
        )
    print("counts identical in memory and spilled; no spill folder left behind")


if __name__ == "__main__":
    main()
