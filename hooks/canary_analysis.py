#!/usr/bin/env python3
"""The canary analysis hook program: exactly `mlp hook canary-analysis` (see hooks/README.md)."""

import sys

from mlplatform.cli import main

if __name__ == "__main__":
    main(["hook", "canary-analysis", *sys.argv[1:]])
