"""Commands over cassettes as files: ls, show, normalize, scan, config, import, export."""

from __future__ import annotations

import json
from pathlib import Path

import click

from recorder.cassette.format import CassetteReader
from recorder.cassette.library import Library
from recorder.cli.app import (
    StatusLine,
    cli,
    err_console,
    latest_created_at,
    library,
    make_redactor,
    open_output,
    out_console,
    read_many,
    report_damage,
    warn,
    write_new,
)
from recorder.errors import RecorderError
from recorder.views import human_size, interaction_detail, interaction_json, interaction_table
from recorder.views import textconv as textconv_lines


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


@cli.command("show")
@click.argument("cassette")
@click.option("-v", "--verbose", is_flag=True, help="Show headers and pretty bodies.")
@click.option("--json", "as_json", is_flag=True, help="Print the cassette as JSON.")
@click.option("--textconv", is_flag=True, help="Stable plain text, for git diff textconv.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a self-contained HTML page of the cassette instead.")
@click.pass_context
def show_command(
    ctx: click.Context, cassette: str, verbose: bool, as_json: bool, textconv: bool,
    html_file: Path | None,
) -> None:
    """Show a cassette: one line per interaction, or every detail with -v.

    For reviewable cassette diffs in git, add `*.cassette diff=recorder` to
    .gitattributes and run `git config diff.recorder.textconv "recorder show --textconv"`.
    """
    if as_json and textconv:
        raise click.UsageError("--json and --textconv are exclusive; choose one")
    path = library(ctx).resolve(cassette)
    with CassetteReader(path) as reader:
        if html_file is not None:
            from recorder.report_html import cassette_page

            write_new(html_file, cassette_page(str(path), reader.header, reader))
        elif as_json:
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
        report_damage(reader)


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


@cli.command("normalize")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, metavar="OUT",
              help="A library name (its next version) or a path for the new cassette.")
@click.option("--keep", type=click.IntRange(min=1), default=1, show_default=True,
              help="Exemplars kept per shape.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def normalize_command(ctx: click.Context, inputs: tuple[str, ...], output: str, keep: int,
                      as_json: bool) -> None:
    """Redact, template routes and keep N exemplars per response shape, with counts.

    INPUTS are cassette names, versions or paths; several are merged in order. The output
    is deterministic: the same inputs and options give the same bytes.
    """
    from recorder.config import load_config
    from recorder.normalize import NormalizeStats, normalize
    from recorder.observe import Router

    lib = library(ctx)
    paths = [lib.resolve(ref) for ref in inputs]
    config = load_config()
    router = Router.learn((i.request.path for i in read_many(paths)), config.routes)
    redactor = make_redactor()
    stats = NormalizeStats()
    status = StatusLine()
    source = {"kind": "normalize", "inputs": list(inputs), "keep": keep}
    with open_output(ctx, output, source, latest_created_at(paths)) as writer:
        for item in normalize(read_many(paths), router, redactor, keep, stats,
                              lambda count: status.show(f"{count:,} interactions…")):
            writer.append(item)
    status.clear()
    summary = {"output": str(writer.path), "interactions": stats.interactions,
               "shapes": stats.groups, "endpoints": stats.endpoints, "kept": stats.kept}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(f"{stats.interactions:,} interactions → {stats.groups} shapes across "
                   f"{stats.endpoints} endpoints ({stats.kept} exemplars kept) → {writer.path}")


@cli.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["har", "vcr", "betamax", "mitmproxy"]),
              help="The files' format (default: guessed from their content).")
@click.option("-o", "--output", required=True, metavar="OUT",
              help="A library name (its next version) or a path for the new cassette.")
@click.option("--no-redact", is_flag=True, help="Keep secrets as they are (forensics only; "
              "warns). Cassettes without redaction must not be shared.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def import_command(ctx: click.Context, files: tuple[Path, ...], fmt: str | None, output: str,
                   no_redact: bool, as_json: bool) -> None:
    """Import HAR, VCR.py (YAML or JSON), Betamax or mitmproxy flow files; several files
    merge in order. Redacted like a capture. A malformed file leaves nothing behind."""
    from recorder.interop.formats import read

    redactor = None if no_redact else make_redactor()
    if no_redact:
        warn("--no-redact: secrets in these files go into the cassette as they are; "
             "do not share or commit it (recorder scan will flag it)")
    source = {"kind": "import", "files": [str(f) for f in files], "redacted": not no_redact}
    writer = open_output(ctx, output, source)
    try:
        for path in files:
            for item in read(path, fmt):
                item = item.evolve(seq=writer.count)
                writer.append(redactor.interaction(item) if redactor else item)
    except BaseException:
        writer.close()
        writer.path.unlink(missing_ok=True)  # nothing partial left behind
        raise
    writer.close()
    if as_json:
        click.echo(json.dumps({"output": str(writer.path), "interactions": writer.count,
                               "redacted": not no_redact}, indent=2))
    else:
        click.echo(f"imported {writer.count} interactions from {len(files)} file(s) → "
                   f"{writer.path}")


@cli.command("export")
@click.argument("cassette")
@click.option("--format", "fmt", type=click.Choice(["har", "vcr", "mitmproxy"]), required=True,
              help="har: HAR 1.2 (browser devtools); vcr: VCR.py YAML; mitmproxy: flows "
              "for mitmweb.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (never overwritten).")
@click.pass_context
def export_command(ctx: click.Context, cassette: str, fmt: str, output: Path) -> None:
    """Export a cassette as HAR, VCR.py YAML or mitmproxy flows."""
    from recorder.interop.formats import write

    if output.exists():  # before the work, not only after it
        raise RecorderError(f"{output} already exists", "choose a new file, or delete it first")
    path = library(ctx).resolve(cassette)
    write_new(output, write(read_many([path]), fmt), f"wrote {fmt} to {output}")


@cli.command("config")
def config_command() -> None:
    """Show the effective configuration (recorder.toml or [tool.recorder] in pyproject.toml)."""
    from recorder.config import load_config

    click.echo(json.dumps(load_config().to_json(), indent=2))


def _cassette_files(targets: tuple[str, ...], lib: Library) -> list[tuple[str, Path]]:
    """Cassette refs and directories (every *.cassette below them), as (label, path)."""
    found: list[tuple[str, Path]] = []
    for target in targets:
        path = Path(target)
        if path.is_dir():
            found.extend((str(p), p) for p in sorted(path.rglob("*.cassette")))
        else:
            found.append((target, lib.resolve(target)))
    return found


@cli.command("scan")
@click.argument("targets", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON.")
@click.pass_context
def scan_command(ctx: click.Context, targets: tuple[str, ...], as_json: bool) -> None:
    """Find secrets left in cassettes (names, paths or directories). Exit 1 if any.

    The same detectors and rules as redaction run over every header, query parameter and
    decoded body; findings name the cassette, interaction, location and kind, and never
    the secret itself. A CI gate for cassettes that came from elsewhere.
    """
    redactor = make_redactor()
    findings = []
    scanned = 0
    for label, path in _cassette_files(targets, library(ctx)):
        for interaction in read_many([path]):
            scanned += 1
            for mark in redactor.findings(interaction):
                findings.append({"cassette": label, "interaction": interaction.seq,
                                 "location": mark.location, "kind": mark.kind,
                                 "hint": mark.hint()})
    if as_json:
        click.echo(json.dumps({"scanned": scanned, "findings": findings}, indent=2))
    else:
        for f in findings:
            click.echo(f"✗ {f['cassette']}#{f['interaction']} {f['location']}: {f['kind']} "
                       f"{f['hint']}".rstrip())
        click.echo(f"scanned {scanned} interactions: "
                   + (f"{len(findings)} secret(s) found" if findings else "clean"))
    ctx.exit(1 if findings else 0)
