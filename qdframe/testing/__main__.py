"""``python -m qdframe.testing``: run a conformance suite from the command line.

* ``python -m qdframe.testing BACKEND [KEY=VALUE ...] [pytest arguments]`` runs
  the backend suite against the registered backend ``BACKEND``.
* ``python -m qdframe.testing kit CATEGORY NAME [--option K=V] [--capability K=V]
  [--json]`` runs the kit of ``CATEGORY`` (allocators, topologies, executors,
  error_handlers, optimizers, mitigators, hardware_profiles) against the
  registered plugin object ``NAME``.

Exit status: 0 every check passed or was skipped, 1 a check failed, 2 a usage
error (unknown category, name, option or capability).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from typing import Any

_USAGE = (
    "usage: python -m qdframe.testing BACKEND [KEY=VALUE ...] [pytest arguments]\n"
    "       python -m qdframe.testing kit CATEGORY NAME [--option K=V] [--capability K=V]"
    " [--json]\n"
    "runs qdframe's backend conformance suite against the registered BACKEND\n"
    "(KEY=VALUE pairs are backend options, e.g. precision=complex64), or the\n"
    "conformance kit of CATEGORY against the registered plugin NAME"
)


def _pairs(items: list[str], what: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--{what} wants KEY=VALUE, got {item!r}")
        try:
            values[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            values[key] = text
    return values


def _kit(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m qdframe.testing kit")
    parser.add_argument("category")
    parser.add_argument("name")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--capability", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)  # exits 2 on a malformed command line

    import qdframe
    from qdframe.errors import QdframeError
    from qdframe.testing.kits import check_plugin

    try:
        options = _pairs(args.option, "option")
        capabilities = _pairs(args.capability, "capability")
        report = check_plugin(
            args.category,
            args.name,
            plugins=qdframe.load_plugins(),
            options=options,
            capabilities=capabilities,
        )
    except (QdframeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for result in report.results:
            print(result)
        verdict = "conforms" if report.ok else f"fails {len(report.failures)} check(s)"
        print(f"{report.subject} {verdict}")
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0].startswith("-"):
        print(_USAGE, file=sys.stderr)
        return 2
    if args[0] == "kit":
        return _kit(args[1:])
    import pytest

    name, rest = args[0], args[1:]
    options = [a for a in rest if "=" in a and not a.startswith("-")]
    passthrough = [a for a in rest if a not in options]
    command = [
        "-p",
        "qdframe.testing.conformance",
        "--pyargs",
        "qdframe.testing.conformance",
        f"--qdframe-backend={name}",
        *[f"--qdframe-backend-option={o}" for o in options],
        *passthrough,
    ]
    return int(pytest.main(command))


if __name__ == "__main__":
    sys.exit(main())
