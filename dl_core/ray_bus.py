"""The actor that carries a Ray job's progress events out and its Stop in (``dl_core.ray_jobs``).

Its own module with no imports: the actor's process loads this file only, not the training
stack.
"""

from __future__ import annotations

from typing import Any


class Bus:
    """Events out of tasks and stop flags into them, keyed by a job (or trial) key."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.stopped: set[str] = set()

    def push(self, key: str, event: dict[str, Any]) -> None:
        self.events.setdefault(key, []).append(event)

    def pull(self, key: str) -> list[dict[str, Any]]:
        return self.events.pop(key, [])

    def stop(self, key: str) -> None:
        self.stopped.add(key)

    def is_stopped(self, key: str) -> bool:
        return key in self.stopped
