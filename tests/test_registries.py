"""Each registration hook fills its registry; objects are validated per category."""

from __future__ import annotations

import pytest

import qdframe
from qdframe.context import RecoveryAction, RecoveryKind
from qdframe.errors import CommunicationError, RegistryError
from qdframe.registry import CATEGORIES, Registry
from qdframe.settings import TunableSetting


class Reroute:
    handles = (CommunicationError,)

    def handle(self, error, context, attempt):
        return RecoveryAction(RecoveryKind.REROUTE, str(error))


class EveryCategory:
    """A plugin that registers one object in each category."""

    @qdframe.hookimpl
    def qdframe_register_backends(self, registry):
        registry.add("echo", lambda **options: options, description="returns its options")

    @qdframe.hookimpl
    def qdframe_register_topologies(self, registry):
        registry.add("pair", lambda num_nodes, **kw: (num_nodes, kw))

    @qdframe.hookimpl
    def qdframe_register_allocators(self, registry):
        registry.add("first-fit", lambda **options: "first-fit")

    @qdframe.hookimpl
    def qdframe_register_optimizers(self, registry):
        registry.add("noop", lambda **options: "noop")

    @qdframe.hookimpl
    def qdframe_register_error_handlers(self, registry):
        registry.add("reroute", Reroute(), description="re-route on link failure")

    @qdframe.hookimpl
    def qdframe_register_executors(self, registry):
        registry.add("inline", lambda **options: "inline")

    @qdframe.hookimpl
    def qdframe_register_mitigators(self, registry):
        registry.add("identity", lambda **options: "identity")

    @qdframe.hookimpl
    def qdframe_register_communication_modes(self, registry):
        registry.add("pigeon", lambda: "pigeon")

    @qdframe.hookimpl
    def qdframe_register_hardware_profiles(self, registry):
        from qdframe_hal import builtin_profiles

        profile = next(iter(builtin_profiles()))
        registry.add(profile.system_type, profile)

    @qdframe.hookimpl
    def qdframe_register_tunable_settings(self, registry):
        registry.add(
            "acceleration.precision",
            TunableSetting("acceleration.precision", ("complex128", "complex64"), "complex128"),
        )


def test_every_category_is_filled_and_attributed():
    loaded = qdframe.load_plugins(autoload=False, plugins=[("every", EveryCategory())])
    assert loaded.failures == []
    registries = loaded.registries
    for category in CATEGORIES:
        registry = registries.by_category(category)
        assert len(registry) == 1, category
        assert registry.entries()[0].plugin == "every"
    assert registries.backends.get("echo")(shots=3) == {"shots": 3}
    assert registries.backends.entry("echo").description == "returns its options"
    handler = registries.error_handlers.get("reroute")
    action = handler.handle(CommunicationError("3-4 down"), None, 0)
    assert action.kind is RecoveryKind.REROUTE
    assert registries.tunable_settings.get("acceleration.precision").allows("complex64")
    assert loaded.registered_by("every")["executors"] == ["inline"]


class Invalid:
    @qdframe.hookimpl
    def qdframe_register_error_handlers(self, registry):
        registry.add("mute", object())

    @qdframe.hookimpl
    def qdframe_register_tunable_settings(self, registry):
        registry.add("threads", {"choices": [1, 2]})

    @qdframe.hookimpl
    def qdframe_register_hardware_profiles(self, registry):
        registry.add("my_box", "16 cores")


def test_invalid_objects_per_category_are_reported():
    loaded = qdframe.load_plugins(autoload=False, plugins=[("invalid", Invalid())])
    registries = loaded.registries
    causes = sorted(f.cause for f in loaded.failures)
    assert len(causes) == 3
    assert any("expected an object with handle()" in c for c in causes)
    assert any("expected a qdframe.settings.TunableSetting, got dict" in c for c in causes)
    assert any("expected a qdframe_hal.HardwareProfile, got str" in c for c in causes)
    assert len(registries.error_handlers) == 0


def test_setting_key_must_match_its_name():
    class Mismatch:
        @qdframe.hookimpl
        def qdframe_register_tunable_settings(self, registry):
            registry.add("threads", TunableSetting("workers", (1, 2), 1))

    loaded = qdframe.load_plugins(autoload=False, plugins=[("m", Mismatch())])
    _ = loaded.registries
    assert "registered as 'threads' but its key is 'workers'" in loaded.failures[0].cause


def test_tunable_setting_default_must_be_a_choice():
    with pytest.raises(ValueError, match="default 3 is not one of its choices"):
        TunableSetting("threads", (1, 2), 3)


def test_registry_api_errors():
    registry: Registry[int] = Registry("backends")
    registry.add("one", 1)
    with (
        registry.owned_by("other"),
        pytest.raises(RegistryError, match="'<api>' and by plugin 'other'"),
    ):
        registry.add("one", 2)
    with pytest.raises(RegistryError, match="unknown backend 'two'; available: one"):
        registry.get("two")
    with pytest.raises(RegistryError, match='pip install "qdframe\\[aer\\]"'):
        registry.get("aer")
    assert list(registry) == ["one"] and "one" in registry and len(registry) == 1


def test_unknown_category():
    loaded = qdframe.load_plugins(autoload=False)
    with pytest.raises(RegistryError, match="unknown registry category 'gadgets'"):
        loaded.registries.by_category("gadgets")


def _is_widget(name, obj):
    return None if isinstance(obj, str) else f"expected a str widget, got {type(obj).__name__}"


class WidgetPlugin:
    @qdframe.hookimpl
    def qdframe_register_widgets(self, registry):
        registry.add("sprocket", "a sprocket", description="turns")


def test_a_category_added_to_a_copy_of_the_table_yields_a_working_registry():
    from qdframe.registry import CATEGORY_TABLE, Category

    widgets = Category(
        "widgets",
        "widget",
        "qdframe_register_widgets",
        "object",
        "a str",
        "builtins.str",
        _is_widget,
        "Widgets.",
    )
    table = (*CATEGORY_TABLE, widgets)
    loaded = qdframe.load_plugins(
        autoload=False, plugins=[("widgets", WidgetPlugin())], categories=table
    )
    assert loaded.failures == []
    registry = loaded.registries.widgets
    assert registry.get("sprocket") == "a sprocket"
    assert loaded.registries.by_category("widgets").entry("sprocket").plugin == "widgets"
    assert loaded.registered_by("widgets") == {"widgets": ["sprocket"]}
    with pytest.raises(RegistryError, match="unknown widget 'cog'; available: sprocket"):
        registry.get("cog")
    # The row's validator applies, and names the plugin and the category's kind.
    registry.add("bad", "ok")
    with pytest.raises(RegistryError, match=r"invalid widget 'gear'.*expected a str widget"):
        registry.add("gear", 42)
    # Without the row, the same plugin implements an unknown hook and is refused by name.
    plain = qdframe.load_plugins(autoload=False, plugins=[("widgets", WidgetPlugin())])
    assert [f.name for f in plain.failures] == ["widgets"]
    assert "qdframe_register_widgets" in plain.failures[0].cause
    with pytest.raises(RegistryError, match="unknown registry category 'widgets'"):
        plain.registries.by_category("widgets")


def test_the_table_refuses_a_malformed_row():
    from qdframe.registry import Category

    with pytest.raises(ValueError, match="holds must be 'factory' or 'object'"):
        Category("widgets", "widget", "qdframe_register_widgets", "thing", "", "builtins.str")
    with pytest.raises(ValueError, match="hook must be qdframe_register_widgets"):
        Category("widgets", "widget", "qdframe_register_gadgets", "object", "", "builtins.str")


def test_every_category_names_an_importable_protocol_and_a_documented_hook():
    import importlib

    from qdframe import hookspecs
    from qdframe.registry import CATEGORY_TABLE

    for category in CATEGORY_TABLE:
        module, _, name = category.protocol.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), name), type), category.name
        assert hasattr(hookspecs, category.hook), category.name


def test_mitigator_protocols_declare_the_methods_of_each_kind():
    from qdframe.protocols import CountsMitigator, ExpectationMitigator, Mitigator

    registry = qdframe.load_plugins().registries.mitigators
    readout, zne = registry.get("readout")(), registry.get("zne")()
    assert isinstance(readout, CountsMitigator) and not isinstance(readout, ExpectationMitigator)
    assert isinstance(zne, ExpectationMitigator) and not isinstance(zne, CountsMitigator)

    class HalfDone:
        name = "half"
        kind = "counts"

        def calibrate(self, run_fn, qubits_by_node, **options):
            return None

    assert isinstance(HalfDone(), Mitigator)
    assert not isinstance(HalfDone(), CountsMitigator)  # no apply() or summary()
