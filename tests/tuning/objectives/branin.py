"""Branin-Hoo, printed Katib-style: `loss=<value>`. Global minimum 0.397887 at three points."""

import argparse
import math


def branin(x1: float, x2: float) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--x1", type=float, required=True)
    parser.add_argument("--x2", type=float, required=True)
    args = parser.parse_args()
    print(f"epoch 1: loss={branin(args.x1, args.x2)}")
