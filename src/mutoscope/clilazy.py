"""Keeping ``mutoscope`` quick to start: sub-commands and the rich console load on first use.

``mutoscope --help`` lists every command, but importing the modules behind them (the rights
layer, provenance, the model trainers) costs seconds; :class:`LazyGroup` lists them from a
table and imports a module only when its command runs or its own help is asked for.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from rich.console import Console
    from typer import _click as click  # typer bundles its own click


class LazyGroup(TyperGroup):
    """A command group whose ``lazy`` commands are imported when first resolved.

    ``lazy`` maps a command name to ``(module, attribute, one-line help)``; the attribute is
    a ``typer.Typer`` (mounted as a sub-group) or a command function.
    """

    lazy: ClassVar[dict[str, tuple[str, str, str]]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in self.lazy if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.commands[cmd_name] = self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] in self.lazy:
            self.get_command(ctx, args[0])
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                cmd = self.commands[name]
                if cmd.hidden:
                    continue
                rows.append((name, cmd.get_short_help_str(formatter.width - 6 - len(name))))
            else:
                rows.append((name, self.lazy[name][2]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def _load(self, name: str) -> click.Command:
        from typer.main import CommandInfo, TyperInfo, get_command_from_info, get_group_from_info

        module, attr, _ = self.lazy[name]
        obj = getattr(importlib.import_module(module), attr)
        if isinstance(obj, typer.Typer):
            group = get_group_from_info(
                TyperInfo(obj),
                pretty_exceptions_short=True,
                suggest_commands=True,
                rich_markup_mode=self.rich_markup_mode,
            )
            group.name = name
            return group
        return get_command_from_info(
            CommandInfo(name=name, callback=obj, cls=PlainUsageCommand),
            pretty_exceptions_short=True,
            rich_markup_mode=self.rich_markup_mode,
        )


class LazyConsole:
    """A ``rich.console.Console`` created (and rich imported) on first use."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def rich(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich, name)


class PlainUsageCommand(TyperCommand):
    """A command whose usage line names required arguments plainly (``PROMPT``), as click
    does, rather than in the braces typer adds (``{PROMPT}``), which read like a choice."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [_unbraced(piece) for piece in super().collect_usage_pieces(ctx)]


class PlainTyper(typer.Typer):
    """A ``typer.Typer`` whose commands are :class:`PlainUsageCommand` unless they say."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", PlainUsageCommand)
        return super().command(*args, **kwargs)


def _unbraced(piece: str) -> str:
    """``{file}`` -> ``FILE``, ``[prompt]`` -> ``[PROMPT]``: an argument's name in capitals."""
    if piece.startswith("{") and piece.rstrip(".").endswith("}"):
        piece = piece.replace("{", "", 1).replace("}", "", 1)
    return re.sub(r"(?<![A-Za-z-])([a-z][a-z0-9_]*)", lambda m: m.group(1).upper(), piece)
