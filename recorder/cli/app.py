"""The command line's frame: the click group, error rendering (one message, one hint,
exit 1 or 2) and the helpers the commands share. recorder.cli is the only package that
prints or exits."""

from __future__ import annotations

import asyncio
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


def proxy_options(command: Any) -> Any:
    """How a mitmproxy-based proxy faces the API: shared by `capture` and `proxy`."""
    for option in reversed((
        click.option("--mode", type=click.Choice(["forward", "reverse"]), default="forward",
                     show_default=True, help="forward: clients set HTTPS_PROXY and trust the "
                     "CA; reverse: clients use the proxy as their base URL (needs --upstream)."),
        click.option("--upstream", metavar="URL", help="The real API, for --mode reverse."),
        click.option("--listen", default="127.0.0.1:8080", show_default=True,
                     metavar="HOST:PORT", help="Where the proxy listens (port 0 picks a free "
                     "one)."),
        click.option("--upstream-ca", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also trust this CA (PEM) for upstream TLS, e.g. a sandbox's "
                     "private CA."),
        click.option("--insecure", is_flag=True, help="Do not verify upstream TLS (warns)."),
    )):
        command = option(command)
    return command


def proxy_settings(mode: str, upstream: str | None, listen: str, upstream_ca: Path | None,
                   insecure: bool) -> Any:
    """The checked ProxySettings for the options above, warning where the user should know."""
    from recorder.capture.runner import ProxySettings

    host, port = parse_listen(listen)
    warn_if_public(host)
    settings = ProxySettings(mode, upstream, host, port, upstream_ca, insecure)
    settings.mitmproxy_mode()  # a bad --mode/--upstream pair is a usage error, now
    if insecure:
        warn("--insecure: upstream TLS certificates are not verified")
    return settings


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


def report_damage(reader: CassetteReader) -> None:
    if reader.damage is not None:
        warn(reader.damage.describe(reader.path))


def write_new(path: Path, data: str | bytes, said: str | None = None) -> None:
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


def netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def read_many(paths: list[Path]) -> Iterator[Interaction]:
    """The interactions of several cassettes in order, warning about any damaged tail."""
    for path in paths:
        with CassetteReader(path) as reader:
            yield from reader
            report_damage(reader)


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


def label(ctx: click.Context, ref: str, path: Path) -> str:
    """How a cassette is named in reports: `fx@2` for library cassettes, else the path."""
    if looks_like_path(ref):
        return str(path)
    return f"{ref.partition('@')[0]}@{int(path.stem)}"


class BatchedLog:
    """The chaos log file: lines are written through a buffer that is flushed 0.1 s after
    the first unflushed line (and at close), not after every line: one write and flush per
    request was a tenth of chaos's cost. With no event loop running, every line is flushed."""

    DELAY = 0.1

    def __init__(self, path: Path) -> None:
        self.file = path.open("a", encoding="utf-8")
        self.scheduled = False

    def write(self, line: str) -> None:
        self.file.write(line + "\n")
        if self.scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.file.flush()
            return
        self.scheduled = True
        loop.call_later(self.DELAY, self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if not self.file.closed:
            self.file.flush()

    def close(self) -> None:
        self.file.close()


def chaos_for(spec: str | None, file: Path | None, seed: int | None, log_file: Path | None,
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
    out = BatchedLog(log_file) if log_file is not None else None
    if replay_log is None:
        err_console.print(f"recorder replay: chaos with --seed {seed} (rerun with the same seed, "
                          "or --chaos-replay the log, to reproduce)", highlight=False)

    def echo(line: str) -> None:
        if not quiet:
            click.echo(f"chaos: {line}", err=True)

    replay = load_log(replay_log) if replay_log is not None else None
    return Chaos(config, out.write if out is not None else echo, replay), out


def main() -> NoReturn:
    try:
        cli.main(prog_name="recorder")
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error worth a traceback.
        sys.stderr.close()
        sys.exit(0)
    sys.exit(0)  # pragma: no cover - click exits itself
