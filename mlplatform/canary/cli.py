"""The canary's commands for the `mlp` CLI: `mlp canary status|rollout|promote|abort` and `mlp hook canary-analysis`."""

from mlplatform.canary.commands import canary  # noqa: F401
from mlplatform.canary.hook import analysis_hook  # noqa: F401
