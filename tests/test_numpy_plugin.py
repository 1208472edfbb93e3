"""The numpy plugin registers its backend and tunable settings through the hooks."""

from __future__ import annotations

from qdframe_numpy import NumpyBackend, NumpyOptions
from qdframe_numpy import plugin as numpy_plugin

import qdframe
from qdframe.plugins import LoadedPlugins, load_plugins
from qdframe.settings import TunableSetting


def _loaded() -> LoadedPlugins:
    return load_plugins(autoload=False, plugins=[("numpy", numpy_plugin)])


def test_registers_the_backend() -> None:
    loaded = _loaded()
    assert loaded.registered_by("numpy")["backends"] == ["numpy"]
    backend = qdframe.get_backend("numpy", plugins=loaded, fusion_max_qubits=3)
    assert isinstance(backend, NumpyBackend)
    assert backend.options == NumpyOptions(fusion_max_qubits=3)


def test_tunable_settings_are_valid_backend_options() -> None:
    settings = _loaded().registries.tunable_settings
    keys = set(settings.names())
    assert {
        "backend.numpy.precision",
        "backend.numpy.fusion_max_qubits",
        "backend.numpy.chunk_qubits",
    } <= keys
    for key in keys:
        setting = settings.get(key)
        assert isinstance(setting, TunableSetting)
        option = key.rsplit(".", 1)[1]
        assert getattr(NumpyOptions(), option) == setting.default
        for choice in setting.choices:
            # Every value the tuner may apply builds a working backend.
            NumpyBackend(**{option: choice})


def test_entry_point_plugin_is_loaded_by_default() -> None:
    assert "numpy" in qdframe.default_plugins().registries.backends
