"""The fraud classifier's distributed variant: a logistic regression in PyTorch, trained with
DistributedDataParallel on the gloo backend (CPU), each replica on its own shard of the training rows.

Run it as one process, under `torchrun --nproc-per-node 2`, or as the replicas of a PyTorchJob: the
process group comes from the environment the launcher sets (MASTER_ADDR, MASTER_PORT, WORLD_SIZE,
RANK). Rank 0 prints Katib-style metrics (`loss=...` each epoch, then `auc=...`) and saves the model:

    torchrun --nproc-per-node 2 -m mlplatform.demo.ddp_trainer --rows 4000 --epochs 3 --lr 0.1

Without --data it trains on synthetic transactions (mlplatform.demo.data).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from sklearn.metrics import roc_auc_score

from mlplatform.demo.data import FEATURES, LABEL, generate_transactions
from mlplatform.demo.trainer import split

MODEL_FILE = "model.pt"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the fraud classifier with DDP (gloo) and print metrics.")
    parser.add_argument("--data", type=Path, help="CSV of transactions (default: synthetic ones)")
    parser.add_argument("--rows", type=int, default=4000, help="synthetic transactions when --data is not given")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--model-dir", type=Path, help="rank 0 saves model.pt and metrics.json here")
    return parser.parse_args(argv)


def standardized(train: pd.DataFrame, test: pd.DataFrame) -> tuple[torch.Tensor, ...]:
    mean, std = train[FEATURES].mean(), train[FEATURES].std().replace(0, 1)
    def tensor(frame, columns):
        return torch.tensor(np.asarray(frame[columns], dtype=np.float32))
    return (tensor((train[FEATURES] - mean) / std, FEATURES), tensor(train, [LABEL]),
            tensor((test[FEATURES] - mean) / std, FEATURES), tensor(test, [LABEL]))


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        dist.init_process_group("gloo")  # env://: the launcher's MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE
    rank = dist.get_rank() if world > 1 else 0
    if rank == 0:
        print(f"replicas={world}", flush=True)
    torch.manual_seed(0)
    frame = pd.read_csv(args.data) if args.data else generate_transactions(rows=args.rows)
    x_train, y_train, x_test, y_test = standardized(*split(frame))
    x_shard, y_shard = x_train[rank::world], y_train[rank::world]
    model = torch.nn.Linear(len(FEATURES), 1)
    trained = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    optimizer = torch.optim.SGD(trained.parameters(), lr=args.lr)
    loss_function = torch.nn.BCEWithLogitsLoss()
    # every rank takes the same number of steps, or DDP's all-reduce would wait forever
    steps = len(x_train) // world // args.batch_size
    for epoch in range(args.epochs):
        total = torch.zeros(1)
        for step in range(steps):
            rows = slice(step * args.batch_size, (step + 1) * args.batch_size)
            optimizer.zero_grad()
            loss = loss_function(trained(x_shard[rows]), y_shard[rows])
            loss.backward()
            optimizer.step()
            total += loss.detach()
        if world > 1:
            dist.all_reduce(total)
        if rank == 0:
            print(f"epoch={epoch} loss={total.item() / (steps * world):.6f}", flush=True)
    if rank == 0:
        report(model, x_test, y_test, args.model_dir)
    if world > 1:
        dist.destroy_process_group()


def report(model: torch.nn.Module, x_test: torch.Tensor, y_test: torch.Tensor, model_dir: Path | None) -> None:
    with torch.no_grad():
        probability = torch.sigmoid(model(x_test)).squeeze(1).numpy()
    auc = round(float(roc_auc_score(y_test.squeeze(1).numpy(), probability)), 6)
    print(f"auc={auc}", flush=True)
    if model_dir:
        model_dir.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), model_dir / MODEL_FILE)
        (model_dir / "metrics.json").write_text(json.dumps({"auc": auc}))


if __name__ == "__main__":
    main()
