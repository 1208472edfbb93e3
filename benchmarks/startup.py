"""Start-up cost of the commands a newcomer runs first, before and after.

Runs each command in a fresh interpreter, for the working tree and, with
``--baseline REV``, for an older commit exported to a temporary folder (put
first on ``PYTHONPATH`` so it shadows the editable install), in the same run,
and prints CPU time (user + system of the child), wall time and peak memory
side by side with their ratio.

    python benchmarks/startup.py --baseline 9d04ac2 --repeat 3

Commands: ``qdframe --version``, ``qdframe plan examples/qft8.qasm`` and a
4-qubit GHZ run on 2 nodes of a ring (64 shots; the topology is given because
before the default network was unified ``--nodes 2`` alone asked for a torus).
The median of ``--repeat`` runs is shown. ``plan`` without options used the
1,024-node torus before and the 4-node default ring now, so its "now" column
includes a real allocator search that the baseline skipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GHZ4 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[4];
creg c[4];
h q[0];
cx q[0],q[1];
cx q[1],q[2];
cx q[2],q[3];
measure q -> c;
"""
_CLI = "import sys; from qdframe.cli.main import main; sys.argv[0] = 'qdframe'; main()"
# The entry point of the working tree answers --version before loading the CLI.
_CLI_NEW = "import sys; from qdframe.cli import main; sys.argv[0] = 'qdframe'; main()"


def _measure(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float]:
    """(cpu_s, wall_s, peak_rss_mib) of one child process, from its own rusage."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        assert child.stderr is not None
        raise SystemExit(f"{' '.join(argv[3:])} failed: {child.stderr.read().decode()[-800:]}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def _tree_env(tree: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if tree is not None:
        paths = [tree, tree / "hal", *sorted(p for p in (tree / "plugins").iterdir() if p.is_dir())]
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    return env


def _export(rev: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="git revision to compare with (e.g. 9d04ac2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median shown)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    work = Path(tempfile.mkdtemp(prefix="qdframe-startup-"))
    (work / "ghz4.qasm").write_text(GHZ4)
    qft8 = str(ROOT / "examples" / "qft8.qasm")
    commands = {
        "qdframe --version": ["--version"],
        "qdframe plan examples/qft8.qasm": ["plan", qft8],
        "qdframe run ghz4 --nodes 2": [
            "run",
            "ghz4.qasm",
            "--nodes",
            "2",
            "--topology",
            "ring",
            "--shots",
            "64",
        ],
    }
    trees: dict[str, tuple[Path | None, str]] = {"now": (None, _CLI_NEW)}
    if args.baseline:
        base = _export(args.baseline, work / "baseline")
        trees = {"baseline": (base, _CLI), **trees}
    results: dict[tuple[str, str], tuple[float, float, float]] = {}
    for label, argv in commands.items():
        for tree_name, (tree, entry) in trees.items():
            runs = []
            for i in range(args.repeat):
                extra = (
                    ["--seed", "1", "--report", str(work / f"{tree_name}-{i}")]
                    if argv[0] == "run"
                    else []
                )
                runs.append(
                    _measure([sys.executable, "-c", entry, *argv, *extra], _tree_env(tree), work)
                )
            results[label, tree_name] = tuple(
                statistics.median(r[k] for r in runs) for k in range(3)
            )  # type: ignore[assignment]
    header = f"{'command':34} {'tree':9} {'CPU s':>7} {'wall s':>7} {'peak MiB':>9}"
    print(header)
    print("-" * len(header))
    for label in commands:
        for tree_name in trees:
            cpu, wall, rss = results[label, tree_name]
            print(f"{label:34} {tree_name:9} {cpu:7.2f} {wall:7.2f} {rss:9.0f}")
        if "baseline" in trees:
            b, n = results[label, "baseline"], results[label, "now"]
            print(
                f"{'':34} {'ratio':9} {b[0] / n[0]:6.1f}x {b[1] / n[1]:6.1f}x {b[2] / n[2]:8.2f}x"
            )
    print(f"\n(median of {args.repeat}; ratio = baseline / now)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
