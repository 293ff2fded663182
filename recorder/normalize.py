"""normalize: redact, template routes, group by response shape, keep N exemplars per group.

Streaming: memory grows with the number of groups (shapes), not interactions. Output is
deterministic: groups in order of first appearance, exemplars in input order. Counts and
first/last-seen times carried by already-normalized input are summed, so normalizing a
normalized cassette changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from recorder.model import Interaction
from recorder.observe import Observation, Router, observe
from recorder.redact import Redactor

# Keys normalize owns in an interaction's meta; anything else (redacted, encodings) stays.
NORMALIZE_META = ("route", "shape", "order", "count", "exemplar", "first_seen", "last_seen")


@dataclass
class Group:
    seen: Observation
    count: int
    first_seen: float
    last_seen: float
    exemplars: list[Interaction] = field(default_factory=list)


@dataclass
class NormalizeStats:
    interactions: int = 0
    groups: int = 0
    endpoints: int = 0
    kept: int = 0


def normalize(
    interactions: Iterable[Interaction],
    router: Router,
    redactor: Redactor,
    keep: int = 1,
    stats: NormalizeStats | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Interaction]:
    stats = stats if stats is not None else NormalizeStats()
    groups: dict[tuple[str, ...], Group] = {}
    for item in interactions:
        stats.interactions += 1
        if progress is not None and stats.interactions % 1000 == 0:
            progress(stats.interactions)
        item = redactor.interaction(item)
        seen = observe(item, router)
        # Already-normalized input: every exemplar repeats its group's count, so only the
        # first exemplar of a group contributes it.
        count = int(item.meta.get("count", 1)) if item.meta.get("exemplar", 0) == 0 else 0
        first = float(item.meta.get("first_seen", item.timing.started_at))
        last = float(item.meta.get("last_seen", item.timing.started_at))
        group = groups.get(seen.group)
        if group is None:
            group = groups[seen.group] = Group(seen, count, first, last)
        else:
            group.count += count
            group.first_seen = min(group.first_seen, first)
            group.last_seen = max(group.last_seen, last)
        if len(group.exemplars) < keep:
            group.exemplars.append(item)
    stats.groups = len(groups)
    stats.endpoints = len({(key[0], key[1]) for key in groups})
    seq = 0
    for group in groups.values():
        for index, exemplar in enumerate(group.exemplars):
            meta = {k: v for k, v in exemplar.meta.items() if k not in NORMALIZE_META}
            meta.update(route=group.seen.route, shape=group.seen.shape_id,
                        order=group.seen.order_id, count=group.count, exemplar=index,
                        first_seen=group.first_seen, last_seen=group.last_seen)
            yield exemplar.evolve(seq=seq, meta=meta)
            seq += 1
    stats.kept = seq
