"""A training curve, one validation accuracy per epoch: a learning rate near 0.05 learns, far from it not."""

import argparse
import time

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seconds-per-epoch", type=float, default=0.25)
    args = parser.parse_args()
    ceiling = max(0.05, 0.95 - 4 * abs(args.lr - 0.05))
    for epoch in range(1, args.epochs + 1):
        time.sleep(args.seconds_per_epoch)
        print(f"epoch {epoch}: Validation-accuracy={ceiling * epoch / args.epochs:.4f}", flush=True)
