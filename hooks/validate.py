#!/usr/bin/env python3
"""The validate hook program: exactly `mlp hook validate` (see hooks/README.md)."""

import sys

from mlplatform.cli import main

if __name__ == "__main__":
    main(["hook", "validate", *sys.argv[1:]])
