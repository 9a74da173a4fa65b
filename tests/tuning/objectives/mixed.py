"""A categorical optimizer and an integer layer count: the accuracy peaks at adam with 3 layers."""

import argparse

OPTIMIZERS = {"adam": 0.9, "sgd": 0.75, "ftrl": 0.6}

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--optimizer", required=True, choices=sorted(OPTIMIZERS))
    parser.add_argument("--num-layers", type=int, required=True)
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args()
    accuracy = OPTIMIZERS[args.optimizer] - 0.05 * abs(args.num_layers - 3) - abs(args.lr - 0.01)
    print(f"Train-accuracy={accuracy + 0.02:.6f}")
    print(f"Validation-accuracy={accuracy:.6f}")
