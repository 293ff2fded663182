"""The command line: turns arguments into calls and errors into exit codes.

The only module that prints or exits. Every RecorderError is rendered once here as one
message and one hint, with exit 1 (bad data) or 2 (bad usage).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console

from recorder import __version__
from recorder.cassette.format import CassetteReader
from recorder.cassette.library import LIBRARY_ENV, Library
from recorder.errors import RecorderError
from recorder.model import Interaction
from recorder.views import human_size, interaction_detail, interaction_json, interaction_table
from recorder.views import textconv as textconv_lines

err_console = Console(stderr=True)


class RecorderGroup(click.Group):
    """Renders every RecorderError once, as `error: …` and `hint: …`, with its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RecorderError as error:
            click.echo(f"error: {error.message}", err=True)
            if error.hint:
                click.echo(f"hint: {error.hint}", err=True)
            ctx.exit(error.exit_code)


def out_console() -> Console:
    """Rich on a terminal; when piped, no colour and no wrapping, so one row stays one line."""
    console = Console()
    if console.is_terminal:
        return console
    return Console(width=100_000, no_color=True, highlight=False)


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def library(ctx: click.Context) -> Library:
    return ctx.find_object(Library) or Library.from_env()


@click.group(cls=RecorderGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--library",
    "library_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=LIBRARY_ENV,
    default="cassettes",
    show_default=True,
    help=f"Directory of named cassettes (also ${LIBRARY_ENV}).",
)
@click.version_option(__version__, prog_name="recorder")
@click.pass_context
def cli(ctx: click.Context, library_dir: Path) -> None:
    """Record real API traffic into versioned, redacted cassettes; diff, replay, check.

    Wherever a CASSETTE is expected, give a path, a library name (its newest version)
    or NAME@VERSION.
    """
    ctx.obj = Library(library_dir)


@cli.command("ls")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def ls_command(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """List the cassettes in the library: names, versions, interactions, dates."""
    lib = library(ctx)
    names = [name] if name else lib.names()
    infos = [lib.info(v) for n in names for v in lib.versions(n)]
    if as_json:
        click.echo(json.dumps([
            {
                "name": i.version.name,
                "version": i.version.number,
                "path": str(i.version.path),
                "interactions": i.interactions,
                "created_at": i.created_at,
                "size": i.size,
                "damaged": i.damaged,
            }
            for i in infos
        ], indent=2))
        return
    if not infos:
        err_console.print(f"no cassettes in {lib.root}" + (f" named {name!r}" if name else ""))
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("cassette", "interactions", "created", "size", ""):
        table.add_column(column, justify="right" if column in ("interactions", "size") else "left")
    for i in infos:
        table.add_row(i.version.ref, str(i.interactions), i.created_at, human_size(i.size),
                      "[red]damaged[/red]" if i.damaged else "")
    out_console().print(table)


def _report_damage(reader: CassetteReader) -> None:
    if reader.damage is not None:
        warn(reader.damage.describe(reader.path))


@cli.command("show")
@click.argument("cassette")
@click.option("-v", "--verbose", is_flag=True, help="Show headers and pretty bodies.")
@click.option("--json", "as_json", is_flag=True, help="Print the cassette as JSON.")
@click.option("--textconv", is_flag=True, help="Stable plain text, for git diff textconv.")
@click.pass_context
def show_command(
    ctx: click.Context, cassette: str, verbose: bool, as_json: bool, textconv: bool
) -> None:
    """Show a cassette: one line per interaction, or every detail with -v.

    For reviewable cassette diffs in git, add `*.cassette diff=recorder` to
    .gitattributes and run `git config diff.recorder.textconv "recorder show --textconv"`.
    """
    if as_json and textconv:
        raise click.UsageError("--json and --textconv are exclusive; choose one")
    path = library(ctx).resolve(cassette)
    with CassetteReader(path) as reader:
        if as_json:
            _echo_json_stream(reader)
        elif textconv:
            for line in textconv_lines(reader.header, reader):
                click.echo(line)
        elif verbose:
            console = out_console()
            for interaction in reader:
                console.print(interaction_detail(interaction))
        else:
            out_console().print(interaction_table(reader, title=f"{path} ({_source(reader)})"))
        _report_damage(reader)


def _source(reader: CassetteReader) -> str:
    source = reader.header.get("source", {})
    kind = source.get("kind", "unknown") if isinstance(source, dict) else "unknown"
    return f"{kind}, {reader.header.get('created_at', '')}"


def _echo_json_stream(reader: CassetteReader) -> None:
    """Stream the JSON document so a large cassette is never held in memory."""
    header = json.dumps(reader.header, default=str)
    click.echo(f'{{"format_version": {reader.format_version}, "header": {header}, '
               '"interactions": [', nl=False)
    for index, interaction in enumerate(reader):
        click.echo(("," if index else "") + "\n" + json.dumps(interaction_json(interaction)),
                   nl=False)
    click.echo("\n]}")


def iter_cassette(reader: CassetteReader) -> Iterator[Interaction]:
    yield from reader
    _report_damage(reader)


def main() -> NoReturn:
    try:
        cli.main(prog_name="recorder")
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error worth a traceback.
        sys.stderr.close()
        sys.exit(0)
    sys.exit(0)  # pragma: no cover - click exits itself


if __name__ == "__main__":  # pragma: no cover
    main()
