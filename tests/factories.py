"""One-line builders of model objects for tests (like mitmproxy's tflow)."""

from __future__ import annotations

import json
from typing import Any

from recorder.model import Interaction, InteractionError, Request, Response, Timing


def request(
    method: str = "GET",
    path: str = "/v1/rates",
    *,
    host: str = "api.example.com",
    scheme: str = "https",
    port: int | None = None,
    query: str = "",
    headers: tuple[tuple[str, str], ...] = (("Accept", "application/json"),),
    body: bytes = b"",
) -> Request:
    return Request(
        method=method,
        scheme=scheme,
        host=host,
        port=port if port is not None else (443 if scheme == "https" else 80),
        path=path,
        query=query,
        headers=headers,
        body=body,
    )


def response(
    status: int = 200,
    body: Any = None,
    *,
    headers: tuple[tuple[str, str], ...] | None = None,
    reason: str = "OK",
) -> Response:
    """A response; a non-bytes `body` is JSON-encoded with a JSON content type."""
    if body is None:
        body = {"base": "EUR", "rate": 1.0842}
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
        headers = headers if headers is not None else (("Content-Type", "application/json"),)
    return Response(status=status, reason=reason, headers=headers or (), body=body)


def interaction(
    req: Request | None = None,
    resp: Response | None = None,
    *,
    seq: int = 0,
    error: InteractionError | None = None,
    **meta: Any,
) -> Interaction:
    return Interaction(
        request=req or request(),
        response=resp if resp is not None or error is not None else response(),
        seq=seq,
        timing=Timing(1_700_000_000.0 + seq, 0.010, 0.012),
        error=error,
        meta=meta,
    )
