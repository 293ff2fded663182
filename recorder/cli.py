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
from recorder.cassette.library import LIBRARY_ENV, Library, create_file
from recorder.errors import RecorderError
from recorder.home import recorder_home
from recorder.model import Interaction
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
    from recorder.redact import Redactor, load_key

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
    redactor = Redactor(load_key(recorder_home()))
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

    status = _StatusLine(err_console)
    started_ok = False
    try:
        def on_ready(address: tuple[str, int]) -> None:
            nonlocal started_ok
            started_ok = True
            ready(address)

        result = run_capture(
            settings, writer, redactor, filter_expression=filter_expression,
            max_body=body_limit, duration=duration, max_flows=max_flows,
            hooks=CaptureHooks(ready=on_ready, tick=status.update, log=log),
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


class _StatusLine:
    """One live line on a terminal (flows, hosts, errors, bytes); nothing when piped."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.shown = False

    def update(self, stats: Any) -> None:
        if not self.console.is_terminal:
            return
        self.console.print(
            f"  {stats.flows} interactions · {len(stats.hosts)} hosts · {stats.errors} errors"
            f" · {human_size(stats.bytes)}", end="\r", highlight=False,
        )
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.console.print(" " * 60, end="\r")


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
