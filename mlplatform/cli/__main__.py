"""`python -m mlplatform.cli`: the same as `mlp`."""

from mlplatform.cli import main

main()
