"""The fraud-detection story that `mlp demo` runs end to end in local mode."""
