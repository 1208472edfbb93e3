"""Check the built wheel: the three roots, every plugin, no stray top-level folders."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(dist_dir: str) -> int:
    wheels = sorted(Path(dist_dir).glob("qdframe-*.whl"))
    if not wheels:
        print(f"no qdframe wheel in {dist_dir}")
        return 1
    wheel = wheels[-1]
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    plugins = {p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()}
    expected = {"qdframe", "qdframe_hal", *plugins}
    problems = []
    if missing := expected - tops:
        problems.append(f"missing packages: {sorted(missing)}")
    if stray := tops - expected:
        problems.append(f"unexpected top-level entries: {sorted(stray)}")
    entry_points = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
    text = zipfile.ZipFile(wheel).read(entry_points).decode() if entry_points else ""
    for plugin in sorted(plugins):
        if f"= {plugin}." not in text and f"= {plugin}\n" not in text:
            problems.append(f"plugin {plugin} has no entry point in group 'qdframe'")
    data_files = [
        str(p.relative_to(root))
        for root in (ROOT / "hal", ROOT / "plugins")
        for p in root.rglob("*")
        if p.is_file() and p.suffix in {".toml", ".ini"} and "__pycache__" not in p.parts
    ]
    for required in ("qdframe/py.typed", *data_files):
        if not any(n.startswith(required) for n in names):
            problems.append(f"{required} is not in the wheel")
    if problems:
        print(f"{wheel.name}:\n  " + "\n  ".join(problems))
        return 1
    print(f"{wheel.name}: ok ({', '.join(sorted(tops))})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
