"""`recorder replay`: serve cassettes to test suites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from recorder.cassette.format import CassetteWriter
from recorder.cassette.library import looks_like_path
from recorder.cli.app import (
    chaos_for,
    chaos_options,
    cli,
    err_console,
    library,
    make_redactor,
    netloc,
    open_output,
    parse_listen,
    read_many,
    warn_if_public,
)
from recorder.model import Interaction
from recorder.replay.index import DEFAULT_MATCH_ON, MATCHERS, REPEAT_MODES


def _miss_handling(ctx: click.Context, on_miss: str, mode: str, upstream: str | None,
                   record_to: str | None, first: str, index: Any
                   ) -> tuple[Any, Any, list[CassetteWriter]]:
    """The upstream and recorder for --on-miss passthrough|record (None, None for respond).
    The record cassette is created on the first miss, so a clean run leaves nothing."""
    from recorder.replay.upstream import Upstream

    if on_miss == "respond":
        if upstream or record_to:
            raise click.UsageError("--upstream and --record-to go with --on-miss "
                                   "passthrough or record")
        return None, None, []
    if mode == "direct" and upstream is None:
        origins = {i.request.origin for i in index.interactions}
        if len(origins) != 1:
            raise click.UsageError("--on-miss in direct mode needs --upstream URL (the "
                                   f"cassette has {len(origins)} recorded origins)")
        upstream = origins.pop()
    if upstream is not None and not upstream.startswith(("http://", "https://")):
        raise click.BadParameter(f"{upstream!r} is not an http(s) URL", param_hint="--upstream")
    forward = Upstream(upstream if mode == "direct" else None)
    if on_miss == "passthrough":
        return forward, None, []
    target = record_to or first.partition("@")[0]
    if looks_like_path(first) and record_to is None:
        raise click.UsageError("--on-miss record with a cassette path needs --record-to "
                               "NAME|PATH")
    redactor = make_redactor()
    writers: list[CassetteWriter] = []

    def keep(interaction: Interaction) -> Interaction:
        if not writers:
            writers.append(open_output(ctx, target, {"kind": "replay-record"}))
        redacted = redactor.interaction(interaction.evolve(seq=writers[0].count))
        writers[0].append(redacted)
        return redacted

    return forward, keep, writers


@cli.command("replay")
@click.argument("cassettes", nargs=-1, required=True)
@click.option("--mode", type=click.Choice(["direct", "proxy"]), default="direct",
              show_default=True, help="direct: a base-URL server; proxy: an HTTP(S) proxy "
              "that intercepts TLS with recorder's CA.")
@click.option("--listen", default="127.0.0.1:8000", show_default=True, metavar="HOST:PORT",
              help="Where to listen (port 0 picks a free one and prints it).")
@click.option("--match-on", default=",".join(DEFAULT_MATCH_ON), show_default=True,
              metavar="LIST", help=f"Comma-separated matchers: {', '.join(MATCHERS)}.")
@click.option("--match-header", "match_headers", multiple=True, metavar="NAME",
              help="Compare this request header too (adds the headers matcher).")
@click.option("--ignore-query", is_flag=True, help="Do not compare query strings at all.")
@click.option("--ignore-param", "ignore_params", multiple=True, metavar="NAME",
              help="Ignore this query parameter (repeatable), e.g. a cache buster.")
@click.option("--ignore-json", "ignore_json", multiple=True, metavar="PATH",
              help="Ignore this request-body JSON path (repeatable): $.timestamp, "
              "$.items[].nonce.")
@click.option("--repeat", type=click.Choice(list(REPEAT_MODES)), default="last",
              show_default=True, help="After the last recorded response of a request: "
              "serve it again, start over, or miss.")
@click.option("--variants", type=click.Choice(["off", "rotate"]), default="off",
              show_default=True, help="rotate: serve each endpoint's recorded response "
              "shapes in turn, one per request, so a suite meets every shape.")
@click.option("--host", help="Answer as this recorded host when the cassette has several "
              "(default: the Host header).")
@click.option("--miss-status", type=click.IntRange(100, 999), default=599, show_default=True,
              help="Status of the near-miss report sent on a miss.")
@click.option("--on-miss", type=click.Choice(["respond", "passthrough", "record"]),
              default="respond", show_default=True, help="respond: the near-miss report; "
              "passthrough: forward to the real upstream; record: forward and append the "
              "answer (redacted) to a new cassette version.")
@click.option("--upstream", metavar="URL", help="Where passthrough/record forward in direct "
              "mode (default: the cassette's one recorded origin).")
@click.option("--record-to", metavar="NAME|PATH", help="Where --on-miss record writes "
              "(default: a new version of the first cassette's name).")
@click.option("--latency", default="none", show_default=True,
              help="none, recorded, or a fixed delay such as 150ms.")
@chaos_options
@click.option("--strict", is_flag=True, help="Exit 1 if any request missed.")
@click.option("--strict-unused", is_flag=True, help="With --strict: also exit 1 if a recorded "
              "interaction was never used.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the final report here as JSON.")
@click.option("--exit-after", type=click.IntRange(min=1), metavar="N",
              help="Stop after N requests.")
@click.option("--ready-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the server's URL here once it listens (for scripts).")
@click.option("--json", "as_json", is_flag=True, help="Print the final report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Do not log misses as they happen.")
@click.pass_context
def replay_command(
    ctx: click.Context, cassettes: tuple[str, ...], mode: str, listen: str, match_on: str,
    match_headers: tuple[str, ...], ignore_query: bool, ignore_params: tuple[str, ...],
    ignore_json: tuple[str, ...], repeat: str, variants: str, host: str | None,
    miss_status: int, on_miss: str, upstream: str | None, record_to: str | None,
    latency: str, chaos_spec: str | None, chaos_file: Path | None, seed: int | None,
    chaos_log: Path | None, chaos_replay: Path | None,
    strict: bool, strict_unused: bool, report_file: Path | None,
    exit_after: int | None, ready_file: Path | None, as_json: bool, quiet: bool,
) -> None:
    """Serve recorded responses to a test suite, and explain every miss.

    Direct mode is the API's base URL; a miss answers --miss-status with a near-miss
    report: the closest recorded requests and which matchers failed. Identical requests
    get their recorded responses in recorded order. GET /__recorder/report returns the
    live report (matched, missed, unused).
    """
    from recorder.replay.app import ReplayApp, ReplaySettings, parse_latency
    from recorder.replay.index import MatchConfig, ReplayIndex

    matchers = tuple(m.strip() for m in match_on.split(",") if m.strip())
    if match_headers and "headers" not in matchers:
        matchers = (*matchers, "headers")
    config = MatchConfig(
        match_on=matchers, headers=match_headers,
        ignore_query=("*",) if ignore_query else ignore_params, ignore_json=ignore_json,
        repeat=repeat, variants=variants == "rotate",
    )
    if strict_unused and not strict:
        raise click.UsageError("--strict-unused goes with --strict")
    bind_host, port = parse_listen(listen)
    warn_if_public(bind_host)
    settings = ReplaySettings(miss_status=miss_status, latency=parse_latency(latency),
                              host=host, on_miss=on_miss)
    lib = library(ctx)
    paths = [lib.resolve(ref) for ref in cassettes]
    index = ReplayIndex.build(read_many(paths), config)
    if host is not None and host.lower() not in {h.lower() for h in index.hosts}:
        raise click.BadParameter(f"{host!r} is not a recorded host; recorded: "
                                 f"{', '.join(index.hosts)}", param_hint="--host")

    def log(message: str) -> None:
        if not quiet:
            err_console.print(f"[yellow]{message}[/yellow]", highlight=False)

    forward, keep, writers = _miss_handling(ctx, on_miss, mode, upstream, record_to,
                                            cassettes[0], index)
    chaos, chaos_out = chaos_for(chaos_spec, chaos_file, seed, chaos_log, chaos_replay, quiet)
    app = ReplayApp(index, settings, log, forward, keep, chaos)

    def ready(address: tuple[str, int]) -> None:
        url = f"http://{netloc(*address)}"
        if ready_file is not None:
            ready_file.write_text(url + "\n")
        what = "base URL" if mode == "direct" else "proxy"
        err_console.print(f"recorder replay: {len(index.interactions)} interactions from "
                          f"{', '.join(str(p) for p in paths)}; {what} [bold]{url}[/bold]",
                          highlight=False)

    from recorder.replay.server import ServeHooks, serve_until_stopped

    try:
        stopped_by = serve_until_stopped(app, bind_host, port, ServeHooks(ready), exit_after,
                                         proxy=mode == "proxy")
    finally:
        if chaos_out is not None:
            chaos_out.close()  # flushes what is buffered
    for writer in writers:
        writer.close()
        click.echo(f"recorded {writer.count} new interaction(s) → {writer.path}", err=True)
    report = app.report()
    report["stopped_by"] = stopped_by
    if report_file is not None:
        report_file.write_text(json.dumps(report, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"replayed {report['requests']} requests: {report['matched']} matched, "
                   f"{report['missed']} missed; {report['unused']} of {report['recorded']} "
                   "recorded interactions unused")
    failed = strict and (report["missed"] > 0 or (strict_unused and report["unused"] > 0))
    ctx.exit(1 if failed else 0)
