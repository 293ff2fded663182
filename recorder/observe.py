"""What recorder learns from one interaction: its endpoint, status, media type, the shape of
its response body and the order of its keys. Shared by normalize, diff and schema."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recorder.model import Interaction, media_type
from recorder.shape import (
    Shape,
    is_json_value,
    key_orders,
    match_template,
    order_id,
    parse_body,
    shape_id,
    template_path,
)

# A segment position becomes a learned template when this many distinct values fill it.
LEARN_THRESHOLD = 8


class Router:
    """Turns paths into route templates: user templates first, then built-in id detection,
    then templates learned from the data (a segment position with many distinct values)."""

    def __init__(self, user_templates: Sequence[str] = (), learned: Iterable[tuple[int, int,
                 tuple[str, ...]]] = ()) -> None:
        self.user_templates = tuple(user_templates)
        self.learned = frozenset(learned)

    @classmethod
    def learn(cls, paths: Iterable[str], user_templates: Sequence[str] = ()) -> Router:
        values: dict[tuple[int, int, tuple[str, ...]], set[str]] = defaultdict(set)
        for path in paths:
            segments = template_path(path).split("/")
            for index, segment in enumerate(segments):
                if not segment or segment.startswith("{"):
                    continue
                key = (len(segments), index, _wildcard(segments, index))
                seen = values[key]
                if len(seen) < LEARN_THRESHOLD:  # bounded: memory grows with routes only
                    seen.add(segment)
        learned = [key for key, seen in values.items() if len(seen) >= LEARN_THRESHOLD]
        return cls(user_templates, learned)

    def route(self, path: str) -> str:
        for template in self.user_templates:
            if match_template(path, template):
                return template
        segments = template_path(path).split("/")
        if self.learned:
            original = segments[:]
            for index in range(len(segments)):
                if (len(segments), index, _wildcard(original, index)) in self.learned:
                    segments[index] = "{id}"
        return "/".join(segments)


def _wildcard(segments: list[str], index: int) -> tuple[str, ...]:
    return (*segments[:index], "*", *segments[index + 1 :])


@dataclass(frozen=True, slots=True)
class Observation:
    method: str
    route: str
    status: str  # "200", or "error:reset" for a recorded upstream failure
    media_type: str
    shape: Shape
    shape_id: str
    orders: frozenset[tuple[str, tuple[str, ...]]]
    order_id: str

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.route}"

    @property
    def group(self) -> tuple[str, str, str, str, str, str]:
        return (self.method, self.route, self.status, self.media_type, self.shape_id,
                self.order_id)


def observe(interaction: Interaction, router: Router) -> Observation:
    request, response = interaction.request, interaction.response
    route = router.route(request.path)
    if response is None:
        kind = interaction.error.kind if interaction.error else "none"
        return Observation(request.method, route, f"error:{kind}", "", "none",
                           shape_id("none"), frozenset(), order_id(frozenset()))
    media = media_type(response.headers)
    shape, value = parse_body(response.body, media)
    orders = frozenset(key_orders(value)) if is_json_value(value) else frozenset()
    return Observation(request.method, route, str(response.status), media, shape,
                       shape_id(shape), orders, order_id(orders))


