"""Commands that face live traffic: capture, proxy, ca, addon-path, demo-api."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from recorder.cassette.library import create_file
from recorder.cli.app import (
    StatusLine,
    chaos_for,
    chaos_options,
    cli,
    err_console,
    library,
    make_redactor,
    netloc,
    parse_listen,
    parse_size,
    proxy_options,
    proxy_settings,
    warn_if_public,
)
from recorder.errors import RecorderError
from recorder.views import human_size


@cli.command("capture")
@proxy_options
@click.option("--name", metavar="NAME", help="Write a new version of this library cassette.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a new cassette file here instead (never overwritten).")
@click.option("--filter", "filter_expression", metavar="EXPR",
              help="Keep only flows matching this mitmproxy filter, e.g. "
              "'~d api.example.com & !~u /health'.")
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
    from recorder.capture.runner import CaptureHooks, check_filter, run_capture

    if (name is None) == (output is None):
        raise click.UsageError("give exactly one of --name NAME or -o PATH")
    check_filter(filter_expression)
    body_limit = parse_size(max_body)
    settings = proxy_settings(mode, upstream, listen, upstream_ca, insecure)
    redactor = make_redactor()
    source = {"kind": "capture", "mode": mode, "upstream": upstream or ""}
    if name is not None:
        _, writer = library(ctx).create(name, source)
    else:
        assert output is not None
        writer = create_file(output, source)

    def ready(address: tuple[str, int]) -> None:
        url = f"http://{netloc(*address)}"
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


@cli.command("proxy")
@proxy_options
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
    from recorder.capture.runner import CaptureHooks
    from recorder.replay.live import serve_chaos_proxy

    if chaos_spec is None and chaos_file is None and chaos_replay is None:
        raise click.UsageError("recorder proxy needs --chaos, --chaos-file or --chaos-replay "
                               "(to record, use recorder capture)")
    settings = proxy_settings(mode, upstream, listen, upstream_ca, insecure)
    chaos, out = chaos_for(chaos_spec, chaos_file, seed, chaos_log, chaos_replay, quiet)

    def ready(address: tuple[str, int]) -> None:
        url = f"http://{netloc(*address)}"
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
