"""Prints TF_CONFIG as one JSON line and checks its shape, as TensorFlow's cluster resolver reads it."""

import json
import os

config = json.loads(os.environ["TF_CONFIG"])
assert set(config) == {"cluster", "task", "environment"}, config
task = config["task"]
assert task["type"] in config["cluster"] and 0 <= task["index"] < len(config["cluster"][task["type"]]), config
print("TF_CONFIG " + json.dumps(config, sort_keys=True), flush=True)
