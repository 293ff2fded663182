"""mitmproxy flow files, read and written with mitmproxy's own reader and writer."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from mitmproxy import connection, exceptions, http
from mitmproxy import io as mitm_io

from recorder.capture.convert import flow_to_interaction
from recorder.interop.common import InteropError, export_headers
from recorder.model import Interaction


def read_flows(path: Path) -> Iterator[Interaction]:
    seq = 0
    with path.open("rb") as file:
        try:
            for flow in mitm_io.FlowReader(file).stream():
                if isinstance(flow, http.HTTPFlow):
                    yield flow_to_interaction(flow, seq)
                    seq += 1
        except exceptions.FlowReadException as exc:
            raise InteropError(str(path), f"flow {seq}", f"unreadable ({exc})") from exc


def write_flows(interactions: Iterable[Interaction]) -> bytes:
    """Flows that open in mitmweb: one HTTP flow per interaction."""
    buffer = io.BytesIO()
    writer = mitm_io.FlowWriter(buffer)
    for item in interactions:
        req = item.request
        client = connection.Client(peername=("127.0.0.1", 0), sockname=("127.0.0.1", 0),
                                   timestamp_start=item.timing.started_at)
        server = connection.Server(address=(req.host, req.port))
        flow = http.HTTPFlow(client, server)
        flow.request = http.Request.make(req.method, req.url, req.body, [
            (k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape"))
            for k, v in req.headers])
        flow.request.http_version = req.http_version
        flow.request.timestamp_start = item.timing.started_at
        flow.request.timestamp_end = item.timing.started_at
        if item.response is not None:
            resp = item.response
            flow.response = http.Response.make(resp.status, resp.body, [
                (k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape"))
                for k, v in export_headers(resp.headers, resp.body)])
            flow.response.reason = resp.reason
            flow.response.http_version = resp.http_version
            ended = item.timing.started_at + (item.timing.ended or 0)
            flow.response.timestamp_start = item.timing.started_at + (
                item.timing.first_byte or 0)
            flow.response.timestamp_end = ended
        writer.add(flow)
    return buffer.getvalue()
