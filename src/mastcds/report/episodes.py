"""Reading the evaluation's per-episode lists against the case's episodes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mastcds.case import Case


def per_episode(case: Case, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evaluation items (keyed by ``episode_id``) in the order of the case's episodes.

    An episode with an id finds its item by id; one without an id takes the
    item at its own position (the engine lists episodes in case order). An
    episode the evaluation does not mention gets an empty dict.
    """
    by_id = {item.get("episode_id"): item for item in items}
    aligned: list[dict[str, Any]] = []
    for i, episode in enumerate(case.episodes):
        item = by_id.get(episode.id) if episode.id is not None else None
        if item is None and episode.id is None and i < len(items):
            item = items[i]
        aligned.append(item or {})
    return aligned
