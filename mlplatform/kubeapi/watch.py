"""The watch loop: ADDED, MODIFIED and DELETED events for a resource, one JSON object per line.

It reads the resource's list every `poll` seconds and reports what changed since the last look (or
since the client's resourceVersion), until `timeout` seconds have passed or the client goes away.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

from starlette.concurrency import run_in_threadpool

from mlplatform.kubeapi.versions import ResourceVersions

POLL_SECONDS = 0.5
DEFAULT_TIMEOUT_SECONDS = 1800.0


def _key(item: dict) -> tuple[str, str]:
    metadata = item.get("metadata") or {}
    return metadata.get("namespace", ""), metadata.get("name", "")


async def watch_events(
    plural: str,
    listing: Callable[[], list[dict]],
    versions: ResourceVersions,
    since: int | None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    poll: float = POLL_SECONDS,
) -> AsyncIterator[bytes]:
    """`listing` returns the (already filtered) objects; `since` None starts with every object as ADDED."""
    known: dict[tuple, tuple[int, dict]] = {}
    first = True
    deadline = time.monotonic() + timeout
    while True:
        items = await run_in_threadpool(listing)
        current = {_key(item): (versions.stamp(plural, item), item) for item in items}
        for key, (version, item) in current.items():
            if key not in known:
                if first and since is not None and version <= since:
                    continue
                yield _event("MODIFIED" if first and since is not None else "ADDED", item)
            elif known[key][0] != version:
                yield _event("MODIFIED", item)
        for key in known.keys() - current.keys():
            gone = known[key][1]
            gone["metadata"]["resourceVersion"] = str(versions.forget(plural, *key))
            yield _event("DELETED", gone)
        known, first = current, False
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(poll)


def _event(kind: str, item: dict) -> bytes:
    return (json.dumps({"type": kind, "object": item}) + "\n").encode()
