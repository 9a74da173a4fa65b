"""Writes its metrics to a file instead of stdout: TEXT lines `name=value`, or JSON lines."""

import argparse
import json
import time

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    print("loss=999")  # stdout is not where this trial's metrics are read from
    with open(args.path, "w") as out:
        for epoch in range(1, 4):
            loss = (args.lr - 0.3) ** 2 + 1.0 / epoch
            if args.format == "json":
                out.write(json.dumps({"epoch": epoch, "loss": str(loss), "timestamp": time.time()}) + "\n")
            else:
                out.write(f"epoch {epoch} loss={loss}\n")
