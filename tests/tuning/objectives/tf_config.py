"""Stands in for a TensorFlow MultiWorkerMirroredStrategy program: it reads TF_CONFIG as TF would and
checks it. The chief prints `loss=<value>`, a function of --lr and of the cluster's size."""

import argparse
import json
import os
import sys

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, required=True)
    args = parser.parse_args()
    config = json.loads(os.environ["TF_CONFIG"])
    cluster, task = config["cluster"], config["task"]
    if task["type"] not in cluster or task["index"] >= len(cluster[task["type"]]):
        sys.exit(f"TF_CONFIG names task {task} outside its cluster {cluster}")
    if task["type"] == "chief":
        print(f"workers={len(cluster.get('worker', []))} loss={(args.lr - 0.05) ** 2}", flush=True)
