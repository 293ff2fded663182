"""Commands over response shapes: diff, schema, check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from recorder.cassette.library import looks_like_path
from recorder.cli.app import cli, label, library, out_console, read_many, write_new
from recorder.errors import RecorderError
from recorder.model import Interaction


def _profiles(ctx: click.Context, refs: list[str], router: Any) -> list[Any]:
    from recorder.diff import profile

    lib = library(ctx)
    out = []
    for ref in refs:
        path = lib.resolve(ref)
        out.append((label(ctx, ref, path), profile(read_many([path]), router, label(ctx, ref,
                                                                                      path))))
    return out


def _router_for(ctx: click.Context, refs: list[str]) -> Any:
    from recorder.config import load_config
    from recorder.observe import Router

    paths = [library(ctx).resolve(ref) for ref in refs]
    return Router.learn((i.request.path for i in read_many(paths)), load_config().routes)


@cli.command("diff")
@click.argument("old")
@click.argument("new", required=False)
@click.option("--fail-on", type=click.Choice(["breaking", "additive", "any", "never"]),
              default="additive", show_default=True,
              help="Exit 1 when a change of this severity or worse is found. The default fails "
              "on any new shape or breaking change, not on key order.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.option("--markdown", is_flag=True, help="Print markdown, for a pull request comment.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML page: endpoints, shapes, what drifted.")
@click.pass_context
def diff_command(ctx: click.Context, old: str, new: str | None, fail_on: str, as_json: bool,
                 markdown: bool, html_file: Path | None) -> None:
    """Typed shape drift per endpoint between two cassettes.

    `recorder diff fx` compares fx's two newest versions. Changes are breaking (a type
    changed, a field removed or now null), additive (a new field, status, endpoint or
    shape) or cosmetic (key order). Exit 1 if --fail-on matches, 0 otherwise.
    """
    from recorder.diff import compare, fails, summarize
    from recorder.diff import markdown as render_markdown

    if as_json and markdown:
        raise click.UsageError("--json and --markdown are exclusive; choose one")
    if new is None:
        if looks_like_path(old) or "@" in old:
            raise click.UsageError("with one argument, give a cassette NAME to compare its two "
                                   "newest versions (or give OLD and NEW)")
        versions = library(ctx).versions(old)
        if len(versions) < 2:
            raise RecorderError(f"{old!r} has {len(versions)} version(s); diff needs two",
                                f"capture again with --name {old}, or give OLD and NEW")
        old, new = versions[-2].ref, versions[-1].ref
    router = _router_for(ctx, [old, new])
    (old_label, old_profile), (new_label, new_profile) = _profiles(ctx, [old, new], router)
    changes = compare(old_profile, new_profile)
    if html_file is not None:
        from recorder.report_html import diff_page

        write_new(html_file, diff_page(changes, old_label, new_label, new_profile))
    if as_json:
        click.echo(json.dumps({"old": old_label, "new": new_label,
                               "summary": summarize(changes),
                               "changes": [c.to_json() for c in changes]}, indent=2))
    elif markdown:
        click.echo(render_markdown(changes, old_label, new_label))
    else:
        out_console().print(_diff_tree(changes, old_label, new_label))
    ctx.exit(1 if fails(changes, fail_on) else 0)


def _diff_tree(changes: list[Any], old_label: str, new_label: str) -> Any:
    from rich.tree import Tree

    from recorder.diff import summarize

    style = {"breaking": "bold red", "additive": "yellow", "cosmetic": "dim"}
    counts = ", ".join(f"{n} {s}" for s, n in summarize(changes).items())
    tree = Tree(f"[bold]{old_label} → {new_label}[/bold]: {counts if changes else 'no changes'}")
    endpoint_node = None
    endpoint = None
    for change in changes:
        if change.endpoint != endpoint:
            endpoint = change.endpoint
            endpoint_node = tree.add(f"[bold]{endpoint}[/bold]")
        assert endpoint_node is not None
        status = f"{change.status} " if change.status else ""
        endpoint_node.add(f"[{style[change.severity]}]{change.severity:9}[/] {status}"
                          f"{change.message}  [dim]{change.exemplar or ''}[/dim]")
    return tree


@cli.command("schema")
@click.argument("cassettes", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the schema here (default: standard output).")
@click.option("--strict", is_flag=True, help="Forbid fields never recorded "
              "(additionalProperties: false).")
@click.pass_context
def schema_command(ctx: click.Context, cassettes: tuple[str, ...], output: Path | None,
                   strict: bool) -> None:
    """Infer a JSON Schema (draft 2020-12) per endpoint and status from recorded responses."""
    from recorder.contract import build_schema
    from recorder.diff import merge_profiles

    refs = list(cassettes)
    router = _router_for(ctx, refs)
    profiles = merge_profiles([p for _, p in _profiles(ctx, refs, router)])
    document = build_schema(profiles, f"recorder contract: {', '.join(refs)}", strict)
    text = json.dumps(document, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    write_new(output, text, f"wrote {len(document['$defs'])} response contracts to {output}")


@cli.command("check")
@click.argument("cassettes", nargs=-1, required=True)
@click.option("--schema", "schema_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A schema from `recorder schema`.")
@click.option("--json", "as_json", is_flag=True, help="Print failures as JSON.")
@click.pass_context
def check_command(ctx: click.Context, cassettes: tuple[str, ...], schema_file: Path,
                  as_json: bool) -> None:
    """Validate every response against its endpoint's contract. Exit 1 if any fails.

    The contract test: for a fresh capture from a sandbox, or a teammate's cassette.
    """
    from recorder.contract import Contract, Failure

    try:
        document = json.loads(schema_file.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecorderError(f"{schema_file} is not JSON: {exc}",
                            "make one with `recorder schema CASSETTE -o FILE`") from exc
    contract = Contract(document, str(schema_file))
    lib = library(ctx)
    failures: list[Failure] = []
    checked = 0

    def counted(items: Iterator[Interaction]) -> Iterator[Interaction]:
        nonlocal checked
        for item in items:
            checked += 1
            yield item

    for ref in cassettes:
        path = lib.resolve(ref)
        failures.extend(contract.check(counted(read_many([path])), label(ctx, ref, path)))
    if as_json:
        click.echo(json.dumps({"checked": checked, "failures": [f.__dict__ for f in failures]},
                              indent=2))
    else:
        for f in failures:
            click.echo(f"✗ {f.interaction} {f.endpoint} {f.status}: {f.path}: {f.message}")
        verdict = "all match" if not failures else f"{len(failures)} fail"
        click.echo(f"checked {checked} responses against {schema_file}: {verdict}")
    ctx.exit(1 if failures else 0)
