#!/usr/bin/env python3
"""The register hook program: exactly `mlp hook register` (see hooks/README.md)."""

import sys

from mlplatform.cli import main

if __name__ == "__main__":
    main(["hook", "register", *sys.argv[1:]])
