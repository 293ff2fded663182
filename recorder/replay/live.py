"""`recorder proxy`: chaos in front of a live API (staging, a sandbox), through mitmproxy.

A small addon adapts flows to the same Chaos engine replay uses. Limits of the live path,
said plainly: `truncate` sends a short but well-framed body (mitmproxy frames what it
sends), and `slow-body` is not applied (mitmproxy writes bodies whole).
"""

from __future__ import annotations

import asyncio
import json

from mitmproxy import http

from recorder.capture.convert import flow_to_interaction
from recorder.capture.runner import CaptureHooks, ProxySettings, StopSignal, run_mitmproxy
from recorder.model import media_type
from recorder.replay.chaos import Chaos, dumps, mutate
from recorder.replay.server import HOLD_SECONDS, ReorderGate
from recorder.shape import template_path


class ChaosAddon:
    def __init__(self, chaos: Chaos) -> None:
        self.chaos = chaos
        window = chaos.window
        self.gate = None if window is None else ReorderGate(window[0], window[1],
                                                            chaos.config.seed)

    async def response(self, flow: http.HTTPFlow) -> None:
        assert flow.response is not None
        interaction = flow_to_interaction(flow, 0)
        response = interaction.response
        body = None
        if response is not None and "json" in media_type(response.headers):
            try:
                body = json.loads(response.body)
            except ValueError:
                body = None
        plan = self.chaos.plan(interaction.request, template_path(interaction.request.path),
                               body, interaction.timing.ended, 0)
        if not plan.active:
            return
        if plan.delay:
            await asyncio.sleep(plan.delay)
        if plan.hold and self.gate is not None:
            await self.gate.wait()
        if plan.fault in ("reset", "empty", "timeout"):
            if plan.fault == "timeout":
                await asyncio.sleep(HOLD_SECONDS)
            flow.kill()
            return
        if plan.fault in ("status", "throttle"):
            headers = {"Content-Type": "application/json"}
            if plan.fault == "throttle":
                headers["Retry-After"] = "1"
            flow.response = http.Response.make(plan.status, json.dumps(
                {"error": "injected by recorder chaos", "status": plan.status}), headers)
        elif plan.fault == "truncate":
            content = flow.response.get_content(strict=False) or b""
            flow.response.set_content(content[: len(content) // 2])
        elif plan.mutations and body is not None:
            flow.response.set_content(dumps(mutate(body, plan.mutations)))
        flow.response.headers["X-Recorder-Chaos"] = plan.describe()


def serve_chaos_proxy(settings: ProxySettings, chaos: Chaos, hooks: CaptureHooks) -> str:
    stop = StopSignal()

    async def main() -> str:
        await run_mitmproxy(settings.options(), [ChaosAddon(chaos)], settings, stop, hooks)
        return stop.reason

    return asyncio.run(main())
