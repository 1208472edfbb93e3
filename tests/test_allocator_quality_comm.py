"""``benchmarks/dqc/quality.py --comm-qubits``: with enough communication
qubits per node the tree cover's detached gates pay, and the lowered program
still verifies and consumes exactly the planned EPR pairs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "dqc"


@pytest.fixture()
def quality() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quality", BENCH / "quality.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["quality"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("bad", ["0", "-3"])
def test_non_positive_comm_qubits_is_a_usage_error(
    quality: ModuleType, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert quality.main(["--comm-qubits", bad, "--families", "qft", "--sizes", "16"]) == 2
    assert "--comm-qubits must be a positive integer" in capsys.readouterr().err


def test_the_option_reaches_the_network(quality: ModuleType) -> None:
    quality.COMM_QUBITS = 5
    assert quality._topology("all_to_all", 4, 4).comm_qubits.tolist() == [5, 5, 5, 5]
    quality.COMM_QUBITS = None
    assert quality._topology("all_to_all", 4, 4).comm_qubits.tolist() == [2, 2, 2, 2]


def test_qft_on_four_nodes_costs_fewer_lowered_pairs_with_more_comm_qubits(
    quality: ModuleType,
) -> None:
    # Two communication qubits: the tree cover would re-open bursts, so the
    # pairwise cover (1.5 n) is kept; sixteen: detached gates bring it to n.
    few = quality.run_case("qft", 12, 4, "all_to_all", "auto", [0], 5.0).ebits
    quality.COMM_QUBITS = 16
    try:
        many = quality.run_case("qft", 12, 4, "all_to_all", "auto", [0], 5.0).ebits
        plan_ebits, pairs, verified, _ = quality.verify_case("qft", 12, 4, "auto", 0, 5.0)
    finally:
        quality.COMM_QUBITS = None
    assert few == [18]
    assert many == [12]
    assert (plan_ebits, pairs, verified) == (12, 12, True)
