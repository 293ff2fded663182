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
from recorder.cassette.format import CassetteReader, CassetteWriter
from recorder.cassette.library import LIBRARY_ENV, Library, create_file, looks_like_path
from recorder.errors import RecorderError
from recorder.home import recorder_home
from recorder.model import Interaction
from recorder.redact import Redactor, load_key
from recorder.replay.index import DEFAULT_MATCH_ON, MATCHERS, REPEAT_MODES
from recorder.views import human_size, interaction_detail, interaction_json, interaction_table
from recorder.views import textconv as textconv_lines

err_console = Console(stderr=True, soft_wrap=True)


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


def make_redactor() -> Redactor:
    """The redactor for this user (their key) and project (recorder.toml / pyproject)."""
    from recorder.config import load_config

    return Redactor(load_key(recorder_home()), load_config().redact)


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def library(ctx: click.Context) -> Library:
    return ctx.find_object(Library) or Library.from_env()


def chaos_options(command: Any) -> Any:
    """The chaos options, shared by `replay` and `proxy`."""
    for option in reversed((
        click.option("--chaos", "chaos_spec", metavar="SPEC", help="Production's weather, e.g. "
                     "'latency=50..800ms@0.3,flip-types=0.05,reorder=0.2,status=503@0.01'."),
        click.option("--chaos-file", type=click.Path(exists=True, dir_okay=False,
                                                     path_type=Path),
                     help="A chaos profile (TOML): `default = SPEC` and per-route `[routes]`."),
        click.option("--seed", type=int, help="Seed for chaos (default: random, printed)."),
        click.option("--chaos-log", type=click.Path(dir_okay=False, path_type=Path),
                     help="Append every injection here as JSON lines (default: stderr)."),
        click.option("--chaos-replay", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
                     help="Re-apply exactly the injections of a chaos log, to reproduce a "
                     "failure."),
    )):
        command = option(command)
    return command


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

            _write_new(html_file, cassette_page(str(path), reader.header, reader))
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
        _report_damage(reader)


def _write_new(path: Path, data: str | bytes, said: str | None = None) -> None:
    """Write an output file (a report, a schema, an export), never over an existing one."""
    if path.exists():
        raise RecorderError(f"{path} already exists", "choose a new file, or delete it first")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    except OSError as exc:
        raise RecorderError(f"cannot write {path}: {exc.strerror}",
                            "check the directory and its permissions") from exc
    err_console.print(said or f"wrote {path}", highlight=False)


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


def parse_size(text: str) -> int:
    """`512`, `64k`, `16m`, `1g` → bytes."""
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    number, unit = text.lower().rstrip("ib"), ""
    if number and number[-1] in units:
        number, unit = number[:-1], number[-1]
    if not number.isdigit():
        raise click.BadParameter(f"{text!r} is not a size; use e.g. 512, 64k, 16m")
    return int(number) * units[unit]


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"{text!r} is not HOST:PORT; e.g. 127.0.0.1:8080 (port 0 "
                                 "picks a free one)")
    return host.strip("[]") or "127.0.0.1", int(port)


def warn_if_public(host: str) -> None:
    if host in ("0.0.0.0", "::", ""):
        warn(f"listening on all interfaces ({host}): anyone on your network can use this "
             "proxy; use 127.0.0.1 unless you mean it")


@cli.command("capture")
@click.option("--mode", type=click.Choice(["forward", "reverse"]), default="forward",
              show_default=True, help="forward: clients set HTTPS_PROXY; reverse: clients use "
              "the proxy as their base URL (needs --upstream).")
@click.option("--upstream", metavar="URL", help="The real API, for --mode reverse.")
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="Where the proxy listens (port 0 picks a free one).")
@click.option("--name", metavar="NAME", help="Write a new version of this library cassette.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a new cassette file here instead (never overwritten).")
@click.option("--filter", "filter_expression", metavar="EXPR",
              help="Keep only flows matching this mitmproxy filter, e.g. "
              "'~d api.example.com & !~u /health'.")
@click.option("--upstream-ca", type=click.Path(dir_okay=False, path_type=Path),
              help="Also trust this CA (PEM) for upstream TLS, e.g. a sandbox's private CA.")
@click.option("--insecure", is_flag=True, help="Do not verify upstream TLS (warns).")
@click.option("--max-body", default="16m", show_default=True, metavar="SIZE",
              help="Keep at most this much of a response body; larger ones are truncated "
              "and marked.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop after this long.")
@click.option("--max-flows", type=click.IntRange(min=1), metavar="N",
              help="Stop after N interactions.")
@click.option("--ready-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proxy's URL here once it listens (for scripts).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Show mitmproxy's warnings as they happen.")
@click.pass_context
def capture_command(
    ctx: click.Context, mode: str, upstream: str | None, listen: str, name: str | None,
    output: Path | None, filter_expression: str | None, upstream_ca: Path | None,
    insecure: bool, max_body: str, duration: float | None, max_flows: int | None,
    ready_file: Path | None, as_json: bool, verbose: bool,
) -> None:
    """Record real traffic through a proxy into a new cassette version.

    Every interaction is redacted in memory, then appended and flushed before the client
    gets its response. Ctrl-C or SIGTERM stops and finalizes the cassette.
    """
    from recorder.capture.runner import CaptureHooks, ProxySettings, check_filter, run_capture

    if (name is None) == (output is None):
        raise click.UsageError("give exactly one of --name NAME or -o PATH")
    host, port = parse_listen(listen)
    warn_if_public(host)
    settings = ProxySettings(mode, upstream, host, port, upstream_ca, insecure)
    settings.mitmproxy_mode()
    check_filter(filter_expression)
    body_limit = parse_size(max_body)
    if insecure:
        warn("--insecure: upstream TLS certificates are not verified")
    redactor = make_redactor()
    source = {"kind": "capture", "mode": mode, "upstream": upstream or ""}
    if name is not None:
        _, writer = library(ctx).create(name, source)
    else:
        assert output is not None
        writer = create_file(output, source)

    def ready(address: tuple[str, int]) -> None:
        url = f"http://{_netloc(*address)}"
        if ready_file is not None:
            ready_file.write_text(url + "\n")
        err_console.print(f"recorder capture: {mode} proxy on [bold]{url}[/bold] → "
                          f"{writer.path}", highlight=False)
        if mode == "forward":
            from recorder.capture.ca import ensure_ca

            ca = ensure_ca()
            err_console.print(
                "point clients at it:\n"
                f"  export HTTP_PROXY={url} HTTPS_PROXY={url}\n"
                f"  export SSL_CERT_FILE={ca} REQUESTS_CA_BUNDLE={ca} "
                f"NODE_EXTRA_CA_CERTS={ca}",
                highlight=False, soft_wrap=True,
            )
        else:
            err_console.print(f"use {url} as the API's base URL", highlight=False)
        err_console.print("Ctrl-C to stop", style="dim")

    def log(level: str, message: str) -> None:
        if verbose or level in ("error", "critical"):
            err_console.print(f"[dim]{level}:[/dim] {message}", highlight=False)

    status = StatusLine()

    def tick(stats: Any) -> None:
        status.show(f"{stats.flows} interactions · {len(stats.hosts)} hosts · "
                    f"{stats.errors} errors · {human_size(stats.bytes)}")

    started_ok = False
    try:
        def on_ready(address: tuple[str, int]) -> None:
            nonlocal started_ok
            started_ok = True
            ready(address)

        result = run_capture(
            settings, writer, redactor, filter_expression=filter_expression,
            max_body=body_limit, duration=duration, max_flows=max_flows,
            hooks=CaptureHooks(ready=on_ready, tick=tick, log=log),
        )
    except BaseException:
        writer.close()
        if not started_ok and writer.count == 0:
            writer.path.unlink(missing_ok=True)  # nothing was captured: leave nothing behind
        raise
    finally:
        status.clear()
    writer.close()
    stats = result.stats
    summary = {
        "cassette": str(writer.path),
        "interactions": stats.flows,
        "errors": stats.errors,
        "hosts": sorted(stats.hosts),
        "response_bytes": stats.bytes,
        "seconds": round(result.seconds, 3),
        "stopped_by": result.stopped_by,
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"captured {stats.flows} interactions from {len(stats.hosts)} host(s) "
            f"({stats.errors} upstream errors, {human_size(stats.bytes)} of responses) "
            f"in {result.seconds:.1f} s → {writer.path}"
        )


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@cli.command("proxy")
@click.option("--mode", type=click.Choice(["forward", "reverse"]), default="forward",
              show_default=True, help="forward: clients set HTTPS_PROXY and trust the CA; "
              "reverse: clients use the proxy as their base URL (needs --upstream).")
@click.option("--upstream", metavar="URL", help="The live API, for --mode reverse.")
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="Where the proxy listens (port 0 picks a free one).")
@click.option("--upstream-ca", type=click.Path(dir_okay=False, path_type=Path),
              help="Also trust this CA (PEM) for upstream TLS.")
@click.option("--insecure", is_flag=True, help="Do not verify upstream TLS (warns).")
@chaos_options
@click.option("--ready-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proxy's URL here once it listens (for scripts).")
@click.option("-q", "--quiet", is_flag=True, help="Do not print the chaos log to stderr.")
def proxy_command(mode: str, upstream: str | None, listen: str, upstream_ca: Path | None,
                  insecure: bool, chaos_spec: str | None, chaos_file: Path | None,
                  seed: int | None, chaos_log: Path | None, chaos_replay: Path | None,
                  ready_file: Path | None, quiet: bool) -> None:
    """A live pass-through proxy in front of a staging API, with the same --chaos as replay.

    Nothing is recorded: traffic goes to the real upstream, and chaos changes what comes
    back (delays, type flips, reordered fields, faults), seeded and logged.
    """
    from recorder.capture.runner import CaptureHooks, ProxySettings
    from recorder.replay.live import serve_chaos_proxy

    if chaos_spec is None and chaos_file is None and chaos_replay is None:
        raise click.UsageError("recorder proxy needs --chaos, --chaos-file or --chaos-replay "
                               "(to record, use recorder capture)")
    host, port = parse_listen(listen)
    warn_if_public(host)
    settings = ProxySettings(mode, upstream, host, port, upstream_ca, insecure)
    settings.mitmproxy_mode()
    if insecure:
        warn("--insecure: upstream TLS certificates are not verified")
    chaos, out = _chaos_for(chaos_spec, chaos_file, seed, chaos_log, chaos_replay, quiet)

    def ready(address: tuple[str, int]) -> None:
        url = f"http://{_netloc(*address)}"
        if ready_file is not None:
            ready_file.write_text(url + "\n")
        target = upstream if mode == "reverse" else "any upstream (HTTPS_PROXY)"
        err_console.print(f"recorder proxy: chaos on {url} → {target}", highlight=False)

    try:
        stopped_by = serve_chaos_proxy(settings, chaos, CaptureHooks(ready=ready))
    finally:
        if out is not None:
            out.close()
    click.echo(f"recorder proxy stopped ({stopped_by})")


@cli.command("ca")
@click.option("--path", "path_only", is_flag=True, help="Print only the certificate's path.")
def ca_command(path_only: bool) -> None:
    """Create recorder's CA if needed and say how to trust it.

    Clients of `recorder capture` (forward mode) and `recorder replay --mode proxy` must
    trust this certificate. The key stays owner-only in RECORDER_HOME.
    """
    from recorder.capture.ca import ensure_ca

    cert = ensure_ca()
    if path_only:
        click.echo(str(cert))
        return
    click.echo(f"recorder's CA certificate: {cert}\n")
    click.echo("trust it in your client (only for test traffic through recorder):")
    click.echo(f"  curl       curl --cacert {cert} --proxy http://127.0.0.1:8080 URL")
    click.echo(f"  requests   REQUESTS_CA_BUNDLE={cert}")
    click.echo(f"  httpx      SSL_CERT_FILE={cert}   (or httpx.Client(verify=\"{cert}\"))")
    click.echo(f"  Node       NODE_EXTRA_CA_CERTS={cert}")
    click.echo(f"  Java       keytool -importcert -alias recorder -file {cert} "
               "-keystore truststore.jks")


@cli.command("addon-path")
def addon_path_command() -> None:
    """Print the path of the capture addon script, for your own mitmproxy:

    mitmdump -s "$(recorder addon-path)" --set recorder_name=fx
    """
    from recorder.capture import mitmdump_script

    click.echo(str(Path(mitmdump_script.__file__).resolve()))


@cli.command("demo-api")
@click.option("--listen", default="127.0.0.1:8000", show_default=True, metavar="HOST:PORT",
              help="Where to listen (port 0 picks a free one).")
@click.option("--drift", is_flag=True, help="Answer like production: numbers as strings, "
              "reordered fields, new fields, payments that succeed without settling.")
@click.option("--ready-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the API's URL here once it listens.")
def demo_api_command(listen: str, drift: bool, ready_file: Path | None) -> None:
    """Run the bundled demo API (currency conversion and settlement) until Ctrl-C."""
    from recorder.demo.api import API_KEY, make_server

    host, port = parse_listen(listen)
    warn_if_public(host)
    try:
        server = make_server(host, port, drift=drift)
    except OSError as exc:
        raise RecorderError(f"cannot listen on {listen}: {exc.strerror}",
                            "choose another port (0 picks a free one)") from exc
    if ready_file is not None:
        ready_file.write_text(server.url + "\n")
    err_console.print(f"demo API ({'drifting' if drift else 'well-behaved'}) on "
                      f"[bold]{server.url}[/bold]; API key: Bearer {API_KEY}", highlight=False)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def read_many(paths: list[Path]) -> Iterator[Interaction]:
    """The interactions of several cassettes in order, warning about any damaged tail."""
    for path in paths:
        with CassetteReader(path) as reader:
            yield from reader
            _report_damage(reader)


def latest_created_at(paths: list[Path]) -> str:
    """Derived outputs carry their inputs' newest date, so the same inputs give the same bytes."""
    dates = []
    for path in paths:
        with CassetteReader(path) as reader:
            dates.append(str(reader.header.get("created_at", "")))
    return max(dates, default="")


def open_output(ctx: click.Context, target: str, source: dict[str, Any],
                created_at: str | None = None) -> CassetteWriter:
    """`-o` takes a path (a new file) or a library name (its next version)."""
    if looks_like_path(target):
        return create_file(Path(target), source, created_at)
    return library(ctx).create(target, source, created_at)[1]


class StatusLine:
    """One live line on a terminal (progress, a capture's counts); nothing when piped."""

    def __init__(self) -> None:
        self.shown = False

    def show(self, text: str) -> None:
        if err_console.is_terminal:
            err_console.print(f"  {text}".ljust(60), end="\r", highlight=False)
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            err_console.print(" " * 60, end="\r")


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


def _label(ctx: click.Context, ref: str, path: Path) -> str:
    """How a cassette is named in reports: `fx@2` for library cassettes, else the path."""
    if looks_like_path(ref):
        return str(path)
    return f"{ref.partition('@')[0]}@{int(path.stem)}"


def _profiles(ctx: click.Context, refs: list[str], router: Any) -> list[Any]:
    from recorder.diff import profile

    lib = library(ctx)
    out = []
    for ref in refs:
        path = lib.resolve(ref)
        out.append((_label(ctx, ref, path), profile(read_many([path]), router, _label(ctx, ref,
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

        _write_new(html_file, diff_page(changes, old_label, new_label, new_profile))
    if as_json:
        click.echo(json.dumps({"old": old_label, "new": new_label,
                               "summary": summarize(changes),
                               "changes": [c.to_json() for c in changes]}, indent=2))
    elif markdown:
        click.echo(render_markdown(changes, old_label, new_label))
    else:
        out_console().print(_diff_tree(changes, old_label, new_label))
    ctx.exit(1 if fails(changes, fail_on) else 0)


def _chaos_for(spec: str | None, file: Path | None, seed: int | None, log_file: Path | None,
               replay_log: Path | None, quiet: bool) -> tuple[Any, Any]:
    """The chaos engine for --chaos/--chaos-file/--chaos-replay, and the log file it writes."""
    import random

    from recorder.replay.chaos import Chaos, ChaosConfig, load_log

    if spec is None and file is None and replay_log is None:
        if seed is not None or log_file is not None:
            raise click.UsageError("--seed and --chaos-log go with --chaos, --chaos-file or "
                                   "--chaos-replay")
        return None, None
    if replay_log is not None and (spec or file):
        raise click.UsageError("--chaos-replay re-applies a log: drop --chaos and --chaos-file")
    if seed is None:
        seed = random.SystemRandom().randrange(1, 2**31)
    config = ChaosConfig.load(spec, file, seed) if replay_log is None else ChaosConfig(seed=seed)
    out = log_file.open("a", encoding="utf-8") if log_file is not None else None
    if replay_log is None:
        err_console.print(f"recorder replay: chaos with --seed {seed} (rerun with the same seed, "
                          "or --chaos-replay the log, to reproduce)", highlight=False)

    def log(entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"))
        if out is not None:
            out.write(line + "\n")
            out.flush()
        elif not quiet:
            click.echo(f"chaos: {line}", err=True)

    replay = load_log(replay_log) if replay_log is not None else None
    return Chaos(config, log, replay), out


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
    _write_new(output, text, f"wrote {len(document['$defs'])} response contracts to {output}")


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
        failures.extend(contract.check(counted(read_many([path])), _label(ctx, ref, path)))
    if as_json:
        click.echo(json.dumps({"checked": checked, "failures": [f.__dict__ for f in failures]},
                              indent=2))
    else:
        for f in failures:
            click.echo(f"✗ {f.interaction} {f.endpoint} {f.status}: {f.path}: {f.message}")
        verdict = "all match" if not failures else f"{len(failures)} fail"
        click.echo(f"checked {checked} responses against {schema_file}: {verdict}")
    ctx.exit(1 if failures else 0)


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
    chaos, chaos_out = _chaos_for(chaos_spec, chaos_file, seed, chaos_log, chaos_replay, quiet)
    app = ReplayApp(index, settings, log, forward, keep, chaos)

    def ready(address: tuple[str, int]) -> None:
        url = f"http://{_netloc(*address)}"
        if ready_file is not None:
            ready_file.write_text(url + "\n")
        what = "base URL" if mode == "direct" else "proxy"
        err_console.print(f"recorder replay: {len(index.interactions)} interactions from "
                          f"{', '.join(str(p) for p in paths)}; {what} [bold]{url}[/bold]",
                          highlight=False)

    from recorder.replay.server import ServeHooks, serve_until_stopped

    stopped_by = serve_until_stopped(app, bind_host, port, ServeHooks(ready), exit_after,
                                     proxy=mode == "proxy")
    if chaos_out is not None:
        chaos_out.close()
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
    _write_new(output, write(read_many([path]), fmt), f"wrote {fmt} to {output}")


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
