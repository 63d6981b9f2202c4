"""``alignprobe`` command line.

Each sub-command lives in its own module and is listed in ``_COMMANDS``; this module only
wires them up and turns user errors into one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from alignprobe.errors import UserInputError
from alignprobe.exit_codes import (
    CommandFailed,
    ExitCode,
    Interrupted,
    interrupt_code,
    signals_as_interrupts,
)
from alignprobe.plain_output import plain_off_terminal

#: sub-command name -> "module:attribute" of a click command (imported lazily: fast --help)
_COMMANDS: dict[str, str] = {
    "eval": "alignprobe.commands.eval_task:eval_command",
    "tasks": "alignprobe.commands.eval_task:tasks_command",
    "run": "alignprobe.commands.run:run_command",
    "table": "alignprobe.commands.table:table_command",
    "import": "alignprobe.commands.import_csv:import_command",
    "compare": "alignprobe.commands.compare:compare_command",
    "gate": "alignprobe.commands.gate:gate_command",
    "power": "alignprobe.commands.gate:power_command",
    "demo": "alignprobe.commands.demo:demo_command",
    "rejudge": "alignprobe.commands.rejudge:rejudge_command",
    "agreement": "alignprobe.commands.agreement:agreement_command",
    "gold": "alignprobe.commands.gold:gold_command",
    "watch": "alignprobe.commands.watch:watch_command",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(cls=_LazyGroup)
@click.version_option(package_name="alignprobe")
def cli() -> None:
    """alignprobe: probe trained checkpoints for misalignment, score them, compare, gate."""


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: every outcome becomes one exit code of the contract in
    :mod:`alignprobe.exit_codes` (docs/exit-codes.md), with one line on stderr."""
    plain_off_terminal()  # before any command imports a library that draws progress bars
    try:
        with signals_as_interrupts():
            return cli.main(args=argv, prog_name="alignprobe", standalone_mode=False)
    except UserInputError as exc:
        click.echo(f"alignprobe: error: {exc.one_line()}", err=True)
        sys.exit(ExitCode.USER_ERROR)
    except CommandFailed as exc:
        click.echo(f"alignprobe: failed: {exc}", err=True)
        sys.exit(ExitCode.FAILED)
    except Interrupted as exc:
        click.echo(f"alignprobe: interrupted: {exc.message}", err=True)
        sys.exit(interrupt_code())
    except click.UsageError as exc:  # a bad option value: one line too, naming the option
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"alignprobe: error: {exc.format_message()}{hint}", err=True)
        sys.exit(ExitCode.USER_ERROR)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("alignprobe: interrupted", err=True)
        sys.exit(interrupt_code())
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USER_ERROR if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:  # an output path that cannot be written, a file gone meanwhile
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"alignprobe: error: {where}{exc.strerror or exc}", err=True)
        sys.exit(ExitCode.USER_ERROR)


if __name__ == "__main__":
    main()
