"""``python -m qdframe.testing NAME [pytest arguments]``: run the conformance
suite against the registered backend ``NAME``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0].startswith("-"):
        print(
            "usage: python -m qdframe.testing BACKEND [KEY=VALUE ...] [pytest arguments]\n"
            "runs qdframe's backend conformance suite against the registered BACKEND;\n"
            "KEY=VALUE pairs are backend options (e.g. precision=complex64)",
            file=sys.stderr,
        )
        return 2
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
