"""Whitelist, applying settings, matching, client files, limits: no server needed."""

from __future__ import annotations

import json
import stat
from enum import Enum
from pathlib import Path

import pytest

from qdframe.config import SystemConfig
from qdframe.errors import ConfigError
from qdframe.network import StatePaths, apply_settings, closest_match, install_token
from qdframe.network.matching import SystemTraits, traits_from_name
from qdframe.network.outbox import Outbox
from qdframe.network.schemas import SystemOptimization
from qdframe.network.whitelist import Whitelist, same_value
from qdframe.settings import TunableSetting


class Mode(Enum):
    FAST = "fast"
    SAFE = "safe"


WHITELIST = Whitelist.from_settings(
    [
        TunableSetting("acceleration.precision", ("complex128", "complex64"), "complex128"),
        TunableSetting("backend.numpy.fusion_max_qubits", (2, 3, 4), 3),
        TunableSetting("backend.numpy.mode", (Mode.SAFE, Mode.FAST), Mode.SAFE),
        TunableSetting("backend.numpy.flag", (False, True), False),
        TunableSetting("memory.max_memory_bytes", (1, 2**30), 2**30),
        TunableSetting("backend.numpy.callback", (print, len), print),
    ],
    qdframe_version="1.2.3",
)


def test_whitelist_from_settings_keeps_json_choices_only() -> None:
    assert WHITELIST.choices["backend.numpy.mode"] == ("safe", "fast")
    assert WHITELIST.defaults["backend.numpy.mode"] == "safe"
    assert "backend.numpy.callback" not in WHITELIST.choices  # cannot travel as JSON


def test_whitelist_check_names_key_and_allowed_values() -> None:
    problems = WHITELIST.check(
        {"backend.numpy.fusion_max_qubits": 9, "system.rm_rf": True, "backend.numpy.flag": 1}
    )
    messages = {p.key: p.message for p in problems}
    assert "allowed: 2, 3, 4" in messages["backend.numpy.fusion_max_qubits"]
    assert "not declared by any plugin of qdframe 1.2.3" in messages["system.rm_rf"]
    assert "backend.numpy.flag" in messages  # 1 is not False/True
    assert WHITELIST.check({"backend.numpy.fusion_max_qubits": 4}) == []


def test_whitelist_json_roundtrip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "wl.json"
    path.write_text(json.dumps(WHITELIST.to_json()))
    loaded = Whitelist.load(path)
    assert loaded == WHITELIST
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        Whitelist.load(path)
    with pytest.raises(ConfigError, match="not found"):
        Whitelist.load(tmp_path / "missing.json")
    with pytest.raises(ConfigError, match="list of choices"):
        Whitelist.from_json({"qdframe_version": "1", "settings": {"a.b": {"choices": 3}}})


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [(True, 1, False), (1, 1.0, True), (None, 0, False), ("1", 1, False), (False, False, True)],
)
def test_same_value(a: object, b: object, same: bool) -> None:
    assert same_value(a, b) is same


def test_apply_to_system_config() -> None:
    config = SystemConfig()
    updated, changes = apply_settings(
        config,
        {
            "acceleration.precision": "complex64",
            "memory.max_memory_bytes": 1,
            "backend.numpy.fusion_max_qubits": 4,
            "integration.disabled_plugins": ["all"],
        },
        WHITELIST,
    )
    assert config.acceleration.precision == "complex128"  # the input is untouched
    assert updated.acceleration.precision == "complex64"
    assert updated.memory.max_memory_bytes == 1
    by_key = {c.key: c for c in changes}
    assert by_key["acceleration.precision"].applied
    # backend options land in [acceleration] backend_options, which the run passes on
    assert by_key["backend.numpy.fusion_max_qubits"].applied
    assert updated.acceleration.backend_options == {"numpy": {"fusion_max_qubits": 4}}
    assert config.acceleration.backend_options == {}
    assert not by_key["integration.disabled_plugins"].applied
    assert by_key["acceleration.precision"].describe() == (
        "Set acceleration.precision to 'complex64' (was 'complex128')"
    )


def test_apply_invalid_value_for_field_is_refused_not_raised() -> None:
    loose = Whitelist("1", {"acceleration.precision": ("complex128", "complex32")})
    updated, changes = apply_settings(
        SystemConfig(), {"acceleration.precision": "complex32"}, loose
    )
    assert updated.acceleration.precision == "complex128"
    assert not changes[0].applied and "invalid here" in changes[0].reason


def test_apply_to_settings_dict_lists_only_changes() -> None:
    current = {"backend.numpy.fusion_max_qubits": 3, "backend.numpy.flag": False}
    updated, changes = apply_settings(
        current, {"backend.numpy.fusion_max_qubits": 3, "backend.numpy.flag": True}, WHITELIST
    )
    assert updated == {"backend.numpy.fusion_max_qubits": 3, "backend.numpy.flag": True}
    assert [(c.key, c.old, c.new) for c in changes] == [("backend.numpy.flag", False, True)]


def _system(name: str, contributors: int = 3) -> SystemOptimization:
    return SystemOptimization(
        system_type=name,
        qdframe_version="1",
        average_savings=10.0,
        optimization_count=contributors,
        quantum_advantage_rate=1.0,
        last_updated=0,
        contributor_count=contributors,
    )


def test_closest_match_levels() -> None:
    available = [
        _system("apple_silicon_m1", 50),
        _system("apple_silicon_m3"),
        _system("linux_x86_64_generic", 7),
        _system("intel_mac_i9", 2),
    ]
    exact = closest_match("apple_silicon_m3", available)
    family = closest_match("apple_silicon_m3_pro", available)
    assert exact is not None and exact.level == "exact"
    assert family is not None and (family.system_type, family.level) == (
        "apple_silicon_m3",  # closer id beats more contributors
        "family",
    )

    def traits(name: str) -> SystemTraits:
        known = {
            "linux_x86_64_generic": SystemTraits("linux_x86_64", "x86_64"),
            "intel_mac_i9": SystemTraits("intel_mac", "x86_64"),
            "windows_amd64_box": SystemTraits("windows_x86_64", "x86_64"),
        }
        return known.get(name) or traits_from_name(name)

    arch = closest_match("windows_amd64_box", available, traits=traits)
    assert arch is not None and (arch.system_type, arch.level) == (
        "linux_x86_64_generic",
        "architecture",
    )
    generic = closest_match("riscv_board", available)
    assert generic is not None and (generic.system_type, generic.level) == (
        "apple_silicon_m1",
        "generic",
    )
    assert closest_match("anything", []) is None


def test_install_token_is_random_private_and_stable(tmp_path: Path) -> None:
    paths = StatePaths.resolve(cache_dir=tmp_path / "a")
    token = install_token(paths)
    assert len(token) == 32 and int(token, 16) >= 0
    assert install_token(paths) == token
    assert stat.S_IMODE(paths.token_file.stat().st_mode) == 0o600
    assert install_token(StatePaths.resolve(cache_dir=tmp_path / "b")) != token
    paths.token_file.write_text("my-laptop.local\n")  # not a token: replaced
    assert install_token(paths) not in ("my-laptop.local", token)


def test_outbox_survives_damage(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.json")
    outbox.add({"a": 1}, "k1")
    outbox.add({"a": 2}, "k2")
    outbox.settle({"k1"}, {"k2": "down"})
    [entry] = outbox.entries()
    assert (entry.idempotency_key, entry.attempts, entry.last_error) == ("k2", 2, "down")
    (tmp_path / "outbox.json").write_text("{{{")
    assert outbox.entries() == []
    assert list(tmp_path.glob("outbox.json.corrupt-*"))


def test_rate_limiter_refills() -> None:
    pytest.importorskip("fastapi")
    from qdframe.network.server.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert limiter.acquire("a") == 0 and limiter.acquire("a") == 0
    wait = limiter.acquire("a")
    assert wait == pytest.approx(1.0)
    assert limiter.acquire("b") == 0
    now[0] = 1.0
    assert limiter.acquire("a") == 0


def test_histogram_bins_cover_values() -> None:
    pytest.importorskip("fastapi")
    from qdframe.network.server.dashboard import histogram

    bins = histogram([-3.0, 0.0, 4.9, 5.0, 12.0])
    assert bins[0][0] == -5.0 and bins[-1][1] == 15.0
    assert sum(n for _, _, n in bins) == 5
    assert [n for _, _, n in bins] == [1, 2, 1, 1]
    assert len(histogram([float(v) for v in range(-100, 101)])) <= 40
