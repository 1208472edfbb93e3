"""Start-up cost of the commands a newcomer runs first, before and after.

Runs each command in a fresh interpreter and prints CPU time (user + system
of the child, from its rusage), wall time and peak memory, side by side for
every tree measured in the same run, with their ratio:

* ``now``: the working tree (or, with ``--now REV``, a commit exported to a
  temporary folder);
* ``baseline``: with ``--baseline REV``, an older commit exported likewise.

An exported tree goes first on ``PYTHONPATH`` so it shadows the editable
install. Bytecode is cached in a temporary ``PYTHONPYCACHEPREFIX`` and every
command runs once unmeasured first, so the figures are those of an installed
package with warm ``.pyc`` files (``PYTHONDONTWRITEBYTECODE`` is dropped for
the children: without a cache every run recompiles qdframe's own modules).
The median of ``--repeat`` runs is shown.

Commands: ``qdframe --version``, ``qdframe plan examples/qft8.qasm`` (text and
``--json``), ``qdframe plugins list``, a 4-qubit GHZ run on 2 nodes of a ring
(64 shots) and, as Python, ``qdframe.load_plugins()`` (registration alone). After the
table, ``python -X importtime`` of ``plan`` lists, per tree, the top-level
packages with the most import time of their own and the modules whose imports
(with everything they pulled in) took longest.

    python benchmarks/startup.py --baseline fcc0979 --now HEAD --repeat 3
    python benchmarks/startup.py --baseline fcc0979 --only plan --repeat 5

Exit codes: 0 measured, 1 a command failed (its stderr is shown), 2 bad
arguments (an unknown revision, ``--repeat`` below 1).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
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
# Trees since the --version fast path answer it before loading the CLI.
_CLI_NEW = "import sys; from qdframe.cli import main; sys.argv[0] = 'qdframe'; main()"
_LOAD_PLUGINS = "import qdframe; qdframe.load_plugins()"
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")

Measurement = tuple[float, float, float]


def _measure(argv: list[str], env: dict[str, str], cwd: Path) -> Measurement:
    """(cpu_s, wall_s, peak_rss_mib) of one child process, from its own rusage."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert child.stderr is not None
    errors = child.stderr.read()  # read before waiting: a full pipe would block the child
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        print(f"{' '.join(argv[3:])} failed:\n{errors.decode()[-800:]}", file=sys.stderr)
        raise SystemExit(1)
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def _tree_env(tree: Path | None, pycache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if tree is not None:
        # Plugin packages live in plugins/<package>/: plugins/ itself goes on the path.
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (tree, tree / "hal", tree / "plugins"))
    return env


def _export(rev: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True)
    if archive.returncode != 0:
        print(f"cannot export {rev!r}: {archive.stderr.decode().strip()}", file=sys.stderr)
        raise SystemExit(2)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _entry(tree: Path | None) -> str:
    root = ROOT if tree is None else tree
    return _CLI_NEW if (root / "qdframe" / "cli" / "__init__.py").is_file() else _CLI


def _import_offenders(
    argv: list[str], env: dict[str, str], cwd: Path, top: int
) -> tuple[list[tuple[str, float]], list[tuple[str, float]], float]:
    """(packages by own import time, modules by cumulative import time, total), in ms."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], env=env, cwd=cwd, capture_output=True
    )
    own: collections.Counter[str] = collections.Counter()
    cumulative: dict[str, float] = {}
    for line in run.stderr.decode().splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        self_us, cum_us, indent, module = match.groups()
        own[module.split(".")[0]] += int(self_us) / 1000
        if (len(indent) - 1) // 2 <= 1:  # what a command or its first imports asked for
            cumulative[module] = max(cumulative.get(module, 0.0), int(cum_us) / 1000)
    by_cumulative = sorted(cumulative.items(), key=lambda item: -item[1])[:top]
    return own.most_common(top), by_cumulative, sum(own.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="git revision to compare with (e.g. fcc0979)")
    parser.add_argument("--now", help="git revision to measure instead of the working tree")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median shown)")
    parser.add_argument("--top", type=int, default=10, help="import offenders listed per tree")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="measure only the commands whose label contains TEXT (repeatable; e.g. 'plan')",
    )
    args = parser.parse_args()
    if args.repeat < 1 or args.top < 0:
        parser.error("--repeat must be >= 1 and --top >= 0")
    work = Path(tempfile.mkdtemp(prefix="qdframe-startup-"))
    try:
        return _run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> int:
    (work / "ghz4.qasm").write_text(GHZ4)
    qft8 = str(ROOT / "examples" / "qft8.qasm")
    commands = {
        "qdframe --version": ["--version"],
        "qdframe plan examples/qft8.qasm": ["plan", qft8],
        "qdframe plan examples/qft8.qasm --json": ["plan", qft8, "--json"],
        "qdframe plugins list": ["plugins", "list"],
        "qdframe run ghz4 --nodes 2": [
            *("run", "ghz4.qasm", "--nodes", "2", "--topology", "ring", "--shots", "64"),
        ],
        # Not a command: what registering every installed plugin costs.
        "python: qdframe.load_plugins()": [],
    }
    if args.only:
        commands = {k: v for k, v in commands.items() if any(t in k for t in args.only)}
        if not commands:
            print(f"no command matches {args.only}", file=sys.stderr)
            return 2
    trees: dict[str, Path | None] = {}
    if args.baseline:
        trees["baseline"] = _export(args.baseline, work / "baseline")
    trees["now"] = _export(args.now, work / "now") if args.now else None
    results: dict[tuple[str, str], Measurement] = {}
    for label, argv in commands.items():
        for name, tree in trees.items():
            env = _tree_env(tree, work / f"pycache-{name}")
            runs = []
            for i in range(args.repeat + 1):  # the first run fills the bytecode cache
                extra = (
                    ["--seed", "1", "--report", str(work / f"{name}-{i}")]
                    if argv[:1] == ["run"]
                    else []
                )
                code = _entry(tree) if argv else _LOAD_PLUGINS
                measured = _measure([sys.executable, "-c", code, *argv, *extra], env, work)
                if i:
                    runs.append(measured)
            results[label, name] = (
                statistics.median(r[0] for r in runs),
                statistics.median(r[1] for r in runs),
                statistics.median(r[2] for r in runs),
            )
    header = f"{'command':40} {'tree':9} {'CPU s':>7} {'wall s':>7} {'peak MiB':>9}"
    print(header)
    print("-" * len(header))
    for label in commands:
        for name in trees:
            cpu, wall, rss = results[label, name]
            print(f"{label:40} {name:9} {cpu:7.2f} {wall:7.2f} {rss:9.0f}")
        if "baseline" in trees:
            b, n = results[label, "baseline"], results[label, "now"]
            print(
                f"{'':40} {'ratio':9} {b[0] / n[0]:6.2f}x {b[1] / n[1]:6.2f}x {b[2] / n[2]:8.2f}x"
            )
    print(f"\n(median of {args.repeat} after one warm-up run; ratio = baseline / now)")
    if args.top:
        for name, tree in trees.items():
            env = _tree_env(tree, work / f"pycache-{name}")
            own, cumulative, total = _import_offenders(
                ["-c", _entry(tree), "plan", qft8], env, work, args.top
            )
            print(f"\n`python -X importtime` of `qdframe plan examples/qft8.qasm`, {name}:")
            print(f"  {'package (own time)':30} {'ms':>7}    {'module (+ imports)':38} {'ms':>7}")
            for (package, p_ms), (module, m_ms) in zip(own, cumulative, strict=False):
                print(f"  {package:30} {p_ms:7.1f}    {module:38} {m_ms:7.1f}")
            print(f"  {'all packages':30} {total:7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
