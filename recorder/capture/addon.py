"""The capture addon: mitmproxy hooks only. It adapts; conversion, redaction and the file
format live elsewhere.

Inside `recorder capture` it is given an open writer. In your own mitmproxy:

    mitmdump -s "$(recorder addon-path)" --set recorder_name=fx
    mitmdump -s "$(recorder addon-path)" --set recorder_out=traffic.cassette
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mitmproxy import ctx, exceptions, flowfilter, http

from recorder.capture.convert import flow_to_interaction
from recorder.cassette.format import CassetteWriter
from recorder.cassette.library import Library, create_file
from recorder.config import load_config
from recorder.errors import RecorderError
from recorder.home import recorder_home
from recorder.redact import Redactor, load_key

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 16 * 1024 * 1024


@dataclass
class CaptureStats:
    flows: int = 0
    errors: int = 0
    bytes: int = 0
    hosts: set[str] = field(default_factory=set)


class BodyTee:
    """A mitmproxy stream function: passes every chunk on, keeps the first `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.size = 0

    def __call__(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]
        return chunk


class CaptureAddon:
    def __init__(
        self,
        writer: CassetteWriter | None = None,
        redactor: Redactor | None = None,
        on_record: Callable[[CaptureStats], None] | None = None,
        on_fatal: Callable[[RecorderError], None] | None = None,
    ) -> None:
        self.writer = writer
        self._owns_writer = writer is None
        self.redactor = redactor
        self.on_record = on_record
        self.on_fatal = on_fatal
        self.stats = CaptureStats()
        self._filter: flowfilter.TFilter | None = None
        self._failed = False

    def load(self, loader: object) -> None:
        add = loader.add_option  # type: ignore[attr-defined]
        add("recorder_out", str, "", "Write captured flows to this new cassette file.")
        add("recorder_name", str, "", "Write captured flows to a new version of this cassette.")
        add("recorder_library", str, "cassettes", "The cassette library for recorder_name.")
        add("recorder_filter", str, "", "Record only flows matching this filter expression.")
        add("recorder_max_body", int, DEFAULT_MAX_BODY,
            "Keep at most this many bytes of a response body; larger ones are truncated "
            "and marked.")

    def configure(self, updated: set[str]) -> None:
        if "recorder_filter" in updated:
            expression = ctx.options.recorder_filter
            if not expression:
                self._filter = None
            else:
                try:
                    self._filter = flowfilter.parse(expression)
                except ValueError as exc:
                    raise exceptions.OptionsError(
                        f"invalid recorder_filter {expression!r}: {exc}"
                    ) from exc

    def running(self) -> None:
        # Secrets never touch disk: whoever made this addon, it always has a redactor.
        if self.redactor is None:
            self.redactor = Redactor(load_key(recorder_home()), load_config().redact)
        if self.writer is not None:
            return
        source = {"kind": "capture", "tool": "mitmproxy addon"}
        try:
            if ctx.options.recorder_out:
                self.writer = create_file(Path(ctx.options.recorder_out), source)
            elif ctx.options.recorder_name:
                library = Library(Path(ctx.options.recorder_library))
                self.writer = library.create(ctx.options.recorder_name, source)[1]
            else:
                logger.warning("recorder: set recorder_out or recorder_name to capture flows")
                return
        except RecorderError as exc:
            logger.error(f"recorder: {exc.message} ({exc.hint})")
            return
        logger.info(f"recorder: capturing to {self.writer.path}")

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        # Bodies of unknown or large size stream through; we keep the first max_body bytes.
        assert flow.response is not None
        length = flow.response.headers.get("content-length", "")
        limit = ctx.options.recorder_max_body
        if not length.isdigit() or int(length) > limit:
            flow.response.stream = BodyTee(limit)

    def response(self, flow: http.HTTPFlow) -> None:
        self._record(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        if flow.response is None:
            self._record(flow)

    def _record(self, flow: http.HTTPFlow) -> None:
        if self.writer is None or self.redactor is None or self._failed:
            return
        if self._filter is not None and not self._filter(flow):
            return
        tee = flow.response.stream if flow.response is not None else None
        if isinstance(tee, BodyTee):
            interaction = flow_to_interaction(flow, self.stats.flows, bytes(tee.kept), tee.size)
        else:
            interaction = flow_to_interaction(flow, self.stats.flows)
        interaction = self.redactor.interaction(interaction)
        try:
            self.writer.append(interaction)
        except RecorderError as exc:
            self._failed = True
            logger.error(f"recorder: {exc.message}")
            if self.on_fatal is not None:
                self.on_fatal(exc)
            return
        stats = self.stats
        stats.flows += 1
        stats.hosts.add(interaction.request.host)
        if interaction.error is not None:
            stats.errors += 1
        if interaction.response is not None:
            stats.bytes += len(interaction.response.body)
        if self.on_record is not None:
            self.on_record(stats)

    def done(self) -> None:
        if self.writer is not None and self._owns_writer:
            self.writer.close()
