"""Loading plugins from entry points: failures are named, the rest still load."""

from __future__ import annotations

import pytest

import qdframe
from qdframe.errors import RegistryError
from qdframe.plugins import load_plugins

GOOD = """
import qdframe

@qdframe.hookimpl
def qdframe_register_executors(registry):
    registry.add("qdf-serial", lambda **options: ("serial", options), description="in-process")
"""


def _names(loaded):
    return [p.name for p in loaded.plugins]


def test_builtin_plugins_come_from_the_qdframe_distribution():
    loaded = load_plugins()
    builtins = {p.name: p for p in loaded.plugins if p.distribution == "qdframe"}
    assert {"mac", "numpy", "topologies", "allocators"} <= set(builtins)
    assert not [f for f in loaded.failures if f.distribution == "qdframe"], loaded.failures


def test_third_party_plugin_is_discovered_by_entry_point(install_distribution):
    install_distribution("qdf-good", {"qdf_test_good": GOOD}, {"good": "qdf_test_good"})
    loaded = load_plugins()
    info = next(p for p in loaded.plugins if p.name == "good")
    assert info.distribution == "qdf-good"
    assert info.version == "1.0"
    entry = loaded.registries.executors.entry("qdf-serial")
    assert entry.plugin == "good"
    assert entry.obj(workers=2) == ("serial", {"workers": 2})


def test_plugin_that_fails_to_import_is_named_and_others_load(install_distribution):
    install_distribution(
        "qdf-broken",
        {"qdf_test_broken": "raise RuntimeError('no licence server')\n"},
        {"broken": "qdf_test_broken"},
    )
    install_distribution("qdf-good", {"qdf_test_good": GOOD}, {"good": "qdf_test_good"})
    loaded = load_plugins()
    failure = next(f for f in loaded.failures if f.name == "broken")
    assert failure.distribution == "qdf-broken"
    assert "RuntimeError" in failure.cause and "no licence server" in failure.cause
    assert "good" in _names(loaded)
    assert "qdf-serial" in loaded.registries.executors


def test_unknown_hook_is_rejected_with_the_hook_name(install_distribution):
    source = """
import qdframe

@qdframe.hookimpl
def qdframe_register_teleporters(registry):
    pass
"""
    install_distribution("qdf-typo", {"qdf_test_typo": source}, {"typo": "qdf_test_typo"})
    loaded = load_plugins()
    failure = next(f for f in loaded.failures if f.name == "typo")
    assert "unknown hook" in failure.cause
    assert "qdframe_register_teleporters" in failure.cause
    assert "typo" not in _names(loaded)


def test_hook_signature_mismatch_is_rejected(install_distribution):
    source = """
import qdframe

@qdframe.hookimpl
def qdframe_register_backends(registry, device):
    pass
"""
    install_distribution("qdf-sig", {"qdf_test_sig": source}, {"sig": "qdf_test_sig"})
    loaded = load_plugins()
    failure = next(f for f in loaded.failures if f.name == "sig")
    assert failure.distribution == "qdf-sig"
    assert "signature" in failure.cause and "device" in failure.cause


def test_requires_is_checked_at_load(install_distribution):
    source = GOOD + '\nQDFRAME_REQUIRES = ">=99.0"\n'
    install_distribution("qdf-future", {"qdf_test_future": source}, {"future": "qdf_test_future"})
    loaded = load_plugins()
    failure = next(f for f in loaded.failures if f.name == "future")
    assert f"requires qdframe>=99.0 but qdframe {qdframe.__version__}" in failure.cause
    assert "qdf-serial" not in loaded.registries.executors


def test_satisfied_requires_loads(install_distribution):
    source = GOOD + '\nQDFRAME_REQUIRES = ">=0.1"\n'
    install_distribution("qdf-now", {"qdf_test_now": source}, {"now": "qdf_test_now"})
    assert "now" in _names(load_plugins())


def test_block_by_environment(install_distribution, monkeypatch):
    install_distribution("qdf-good", {"qdf_test_good": GOOD}, {"good": "qdf_test_good"})
    monkeypatch.setenv("QDFRAME_DISABLE_PLUGINS", "good, mac")
    loaded = load_plugins()
    assert "good" not in _names(loaded) and "mac" not in _names(loaded)
    assert loaded.blocked == ["good", "mac"]
    assert "numpy" in _names(loaded)


def test_block_by_config_key(install_distribution):
    install_distribution("qdf-good", {"qdf_test_good": GOOD}, {"good": "qdf_test_good"})
    config = qdframe.config.config_from_mapping({"integration": {"disabled_plugins": ["good"]}})
    loaded = load_plugins(disabled=config.integration.disabled_plugins)
    assert "good" not in _names(loaded)
    assert "qdf-serial" not in loaded.registries.executors


def test_autoload_off_loads_only_explicit_plugins(monkeypatch):
    import types

    module = types.ModuleType("explicit")
    exec(GOOD, module.__dict__)
    monkeypatch.setenv("QDFRAME_DISABLE_PLUGIN_AUTOLOAD", "1")
    loaded = load_plugins(plugins=[("explicit", module)])
    assert _names(loaded) == ["explicit"]
    assert loaded.registries.executors.names() == ["qdf-serial"]
    assert loaded.registries.backends.names() == []


def test_duplicate_name_names_both_plugins(install_distribution):
    install_distribution("qdf-one", {"qdf_test_one": GOOD}, {"one": "qdf_test_one"})
    install_distribution("qdf-two", {"qdf_test_two": GOOD}, {"two": "qdf_test_two"})
    loaded = load_plugins()
    _ = loaded.registries  # registration hooks fire when the registries are first used
    failure = next(f for f in loaded.failures if f.name == "two")
    assert "'one'" in failure.cause and "'two'" in failure.cause
    assert loaded.registries.executors.entry("qdf-serial").plugin == "one"


def test_registration_hook_that_raises_is_reported(install_distribution):
    source = """
import qdframe

@qdframe.hookimpl
def qdframe_register_topologies(registry):
    raise KeyError("dims")
"""
    install_distribution("qdf-raise", {"qdf_test_raise": source}, {"raising": "qdf_test_raise"})
    loaded = load_plugins()
    assert len(loaded.registries.topologies) > 0  # the built-in topologies survived
    failure = next(f for f in loaded.failures if f.name == "raising")
    assert "qdframe_register_topologies failed: KeyError" in failure.cause


def test_unknown_name_lists_available_and_optional_extra():
    loaded = load_plugins()
    with pytest.raises(RegistryError) as info:
        loaded.registries.backends.get("aer" if "aer" not in loaded.registries.backends else "x")
    message = str(info.value)
    assert "available:" in message and "numpy" in message
    if "aer" not in loaded.registries.backends:
        assert 'pip install "qdframe[aer]"' in message


def test_invalid_objects_are_refused(install_distribution):
    source = """
import qdframe

@qdframe.hookimpl
def qdframe_register_backends(registry):
    registry.add("Bad Name", object)

@qdframe.hookimpl
def qdframe_register_allocators(registry):
    registry.add("not-callable", 42)
"""
    install_distribution(
        "qdf-invalid", {"qdf_test_invalid": source}, {"invalid": "qdf_test_invalid"}
    )
    loaded = load_plugins()
    _ = loaded.registries
    causes = " | ".join(f.cause for f in loaded.failures if f.name == "invalid")
    assert "'Bad Name'" in causes and "lowercase" in causes
    assert "expected a callable factory, got int" in causes


def test_registered_by_reports_each_category():
    loaded = load_plugins()
    assert "numpy" in loaded.registered_by("numpy")["backends"]
    assert "apple_silicon_m3_pro" in loaded.registered_by("mac")["hardware_profiles"]
