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


def _moebius(num_nodes, *, qubits_per_node, comm_qubits_per_node, link=None, **params):
    return ("moebius", num_nodes, qubits_per_node)


def _ring_of(size, qubits):  # positional parameters the core never passes
    return ("ring", size, qubits)


class _NoConfig:
    """An executor whose constructor takes no options (the core passes config=)."""

    def __init__(self):
        pass


class _NeedsDevice:
    """A backend with a required option (the core may pass no options)."""

    def __init__(self, device):
        self.device = device


@pytest.mark.parametrize(
    ("category", "factory", "expected", "why"),
    [
        (
            "topologies",
            _ring_of,
            "builder(num_nodes, *, qubits_per_node, comm_qubits_per_node, link=None, **params)",
            "_ring_of(size, qubits) cannot take that call: missing a required argument: 'qubits'",
        ),
        (
            "executors",
            _NoConfig,
            "factory(*, config, **options) -> Executor",
            "_NoConfig() cannot take that call: got an unexpected keyword argument 'config'",
        ),
        (
            "backends",
            _NeedsDevice,
            "factory(**options) -> Backend",
            "_NeedsDevice(device) cannot take that call: missing a required argument: 'device'",
        ),
    ],
)
def test_a_factory_with_the_wrong_signature_is_refused_naming_the_expected_call(
    category, factory, expected, why
):
    from qdframe.registry import category_named

    row = category_named(category)
    registry = row.new_registry()
    with registry.owned_by("acme"), pytest.raises(RegistryError) as caught:
        registry.add("broken", factory)
    message = str(caught.value)
    assert message.startswith(f"plugin 'acme' registered invalid {row.kind} 'broken': ")
    assert f"a {row.kind} factory is called as {expected}" in message
    assert why in message
    assert "broken" not in registry


def test_a_wrong_signature_from_a_plugin_is_reported_as_its_failure():
    class Wrong:
        @qdframe.hookimpl
        def qdframe_register_topologies(self, registry):
            registry.add("ring-of", _ring_of)
            registry.add("moebius", _moebius)  # never reached: the add above raised

    class Right:
        @qdframe.hookimpl
        def qdframe_register_topologies(self, registry):
            registry.add("moebius", _moebius)

    loaded = qdframe.load_plugins(autoload=False, plugins=[("wrong", Wrong()), ("right", Right())])
    assert loaded.registries.topologies.names() == ["moebius"]
    [failure] = loaded.failures
    assert failure.name == "wrong"
    assert "invalid topology 'ring-of': a topology factory is called as builder(" in failure.cause


def test_a_lazy_factory_is_checked_when_first_used_not_when_added(tmp_path, monkeypatch):
    import sys

    from qdframe.plugin import lazy_factory
    from qdframe.registry import category_named

    (tmp_path / "qdf_lazy_ring.py").write_text(
        "def ring_of(size, qubits):\n    return size\n\n"
        "def moebius(num_nodes, *, qubits_per_node, comm_qubits_per_node, link=None):\n"
        "    return num_nodes\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = category_named("topologies").new_registry()
    with registry.owned_by("acme"):
        registry.add("ring-of", lazy_factory("qdf_lazy_ring:ring_of"))
        registry.add("moebius", lazy_factory("qdf_lazy_ring:moebius"))
    assert "qdf_lazy_ring" not in sys.modules  # adding imported nothing
    try:
        assert registry.get("moebius")(4, qubits_per_node=1, comm_qubits_per_node=1) == 4
        for _ in range(2):  # refused on every use, not only the first
            with pytest.raises(
                RegistryError,
                match=r"plugin 'acme' registered invalid topology 'ring-of': a topology factory "
                r"is called as builder\(num_nodes, \*, qubits_per_node",
            ):
                registry.get("ring-of")
    finally:
        sys.modules.pop("qdf_lazy_ring", None)


def test_each_factory_call_is_spelled_out_in_its_documented_signature():
    from qdframe.registry import CATEGORY_TABLE

    for category in CATEGORY_TABLE:
        if category.holds == "object":
            assert category.call.positional == category.call.keywords == (), category.name
            continue
        head = category.signature.split(")", 1)[0]
        for argument in (*category.call.positional, *category.call.keywords):
            assert argument in head, (category.name, argument)
        # The documented call is one the check accepts.
        assert category.call.problem(lambda *args, **kwargs: None) is None


def test_every_builtin_factory_fits_its_category():
    loaded = qdframe.load_plugins()
    assert loaded.failures == []
    for category in loaded.categories:
        if category.holds != "factory":
            continue
        registry = loaded.registries.by_category(category.name)
        for entry in registry.entries():
            assert category.factory_problem(entry.obj) is None, (category.name, entry.name)


def test_every_registration_hookspec_has_its_row_in_the_table():
    from qdframe import hookspecs
    from qdframe.registry import CATEGORY_TABLE

    declared = {name for name in vars(hookspecs) if name.startswith("qdframe_register_")}
    assert declared == {c.hook for c in CATEGORY_TABLE}
