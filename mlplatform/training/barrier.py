"""Gang start in a cluster: the init container every replica's pod runs before its training container.

    python -m mlplatform.training.barrier --timeout 300 job-master-0 job-worker-0 ...

Each replica has a headless Service with `publishNotReadyAddresses`, so its DNS name resolves as soon as
its pod is scheduled and has an IP. The barrier waits until every peer's name resolves: no replica
starts training before all are scheduled. After `--timeout` seconds it exits 1 naming the replicas that
never were, so the job fails (or restarts) with that reason instead of hanging in a rendezvous.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Callable

POLL_SECONDS = 1.0


def resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return True


def wait_for_peers(peers: list[str], timeout: float, check: Callable[[str], bool] = resolves,
                   poll: float = POLL_SECONDS) -> list[str]:
    """The peers still missing when the timeout passed; empty when every one resolved."""
    deadline = time.monotonic() + timeout
    missing = list(peers)
    while True:
        missing = [peer for peer in missing if not check(peer)]
        if not missing or time.monotonic() >= deadline:
            return missing
        time.sleep(poll)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Wait until every replica of a training job is scheduled.")
    parser.add_argument("--timeout", type=float, required=True, help="seconds to wait at most")
    parser.add_argument("peers", nargs="+", help="the replicas' Service host names")
    options = parser.parse_args(argv)
    missing = wait_for_peers(options.peers, options.timeout)
    if missing:
        print(f"gang start: {len(missing)} of {len(options.peers)} replicas were not scheduled within "
              f"{options.timeout:g}s: {', '.join(missing)}", file=sys.stderr, flush=True)
        return 1
    print(f"gang start: all {len(options.peers)} replicas are scheduled", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
