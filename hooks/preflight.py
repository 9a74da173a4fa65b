#!/usr/bin/env python3
"""The preflight hook program: exactly `mlp hook preflight` (see hooks/README.md)."""

import sys

from mlplatform.cli import main

if __name__ == "__main__":
    main(["hook", "preflight", *sys.argv[1:]])
