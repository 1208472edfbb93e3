"""Help rendering: flags are shown without a value placeholder.

Typer prints a type for every option, so ``--verify`` would read
``--verify <bool>`` as if it took a value. The command and group classes here
blank the placeholder of every on/off flag (``--help`` included) before help
is rendered; options that take a value keep theirs.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import DefaultPlaceholder

__all__ = ["FlagCommand", "FlagGroup", "hide_flag_metavars"]


def _blank_flags(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class FlagCommand(TyperCommand):
    """A command whose help shows flags without ``<bool>``."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _blank_flags(list(super().get_params(ctx)))


class FlagGroup(TyperGroup):
    """A command group whose help shows flags without ``<bool>``."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _blank_flags(list(super().get_params(ctx)))


def _replaceable(cls: Any, base: type) -> bool:
    # Unset (None or Typer's default placeholder) or Typer's own class; a
    # command that asked for a class of its own keeps it.
    return cls is None or isinstance(cls, DefaultPlaceholder) or cls is base


def hide_flag_metavars(app: typer.Typer) -> None:
    """Use :class:`FlagCommand`/:class:`FlagGroup` for ``app`` and everything under it."""
    if _replaceable(app.info.cls, TyperGroup):
        app.info.cls = FlagGroup
    for command in app.registered_commands:
        if _replaceable(command.cls, TyperCommand):
            command.cls = FlagCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            hide_flag_metavars(group.typer_instance)
        if _replaceable(group.cls, TyperGroup):
            group.cls = FlagGroup
