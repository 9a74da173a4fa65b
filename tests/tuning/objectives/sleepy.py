"""Sleeps, then prints `loss`: long enough to be in flight when the service restarts.

Each run appends its trial name to --runs-file, so a test can tell a re-attached trial (one run)
from a re-run one (two runs).
"""

import argparse
import os
import time

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--x", type=float, required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--runs-file")
    args = parser.parse_args()
    if args.runs_file:
        with open(args.runs_file, "a") as runs:
            runs.write(os.environ["KATIB_TRIAL_NAME"] + "\n")
    time.sleep(args.seconds)
    print(f"loss={(args.x - 1) ** 2}")
