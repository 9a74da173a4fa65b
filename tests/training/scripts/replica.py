"""A replica that waits to be killed on its first attempt and succeeds on the next one.

argv[1] is a directory shared by the replicas: the first attempt of each rank leaves a marker there.
"""

import os
import sys
import time
from pathlib import Path

marker = Path(sys.argv[1]) / f"rank-{os.environ['RANK']}"
print(f"pid {os.getpid()} rank {os.environ['RANK']}", flush=True)
if marker.exists():
    print("a later attempt: done", flush=True)
    sys.exit(0)
marker.touch()
time.sleep(120)
