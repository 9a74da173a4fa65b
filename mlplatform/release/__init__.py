"""Release tooling behind `mlp release ...` and the `helm mlp` plugin: status, diff, upgrade-check, and
`mlp validate --release` (tests.py). helm.py drives helm through pyhelm3 with the plugin's context."""
