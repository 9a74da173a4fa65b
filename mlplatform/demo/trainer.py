"""Train and score the fraud classifier. One function serves the pipeline's train step, the tuning
trials and the demo's final model, so every path trains the same way.

As a program (a Katib trial's command) it prints its metrics in Katib's `name=value` format:

    python -m mlplatform.demo.trainer --data transactions.csv --learning-rate 0.1 --max-depth 4 \
        --model-dir out/
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import joblib
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split

from mlplatform.demo.data import FEATURES, LABEL

MODEL_FILE = "model.joblib"  # the name MLServer's sklearn runtime looks for


@dataclass(frozen=True)
class Hyperparameters:
    learning_rate: float = 0.1
    max_depth: int = 4
    max_iter: int = 100
    l2_regularization: float = 0.0


def split(frame: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified 75/25 train/test split."""
    return train_test_split(frame, test_size=0.25, random_state=seed, stratify=frame[LABEL])


def fit(train: pd.DataFrame, params: Hyperparameters) -> HistGradientBoostingClassifier:
    model = HistGradientBoostingClassifier(
        learning_rate=params.learning_rate,
        max_depth=params.max_depth,
        max_iter=params.max_iter,
        l2_regularization=params.l2_regularization,
        random_state=0,
    )
    return model.fit(train[FEATURES].to_numpy(dtype=float), train[LABEL].to_numpy())


def score(model, test: pd.DataFrame) -> dict[str, float]:
    """ROC AUC, precision-recall AUC, and recall at the default threshold."""
    features = test[FEATURES].to_numpy(dtype=float)
    truth = test[LABEL].to_numpy()
    probability = model.predict_proba(features)[:, 1]
    return {
        "auc": round(float(roc_auc_score(truth, probability)), 6),
        "pr_auc": round(float(average_precision_score(truth, probability)), 6),
        "recall": round(float(recall_score(truth, model.predict(features))), 6),
    }


def save(model, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    joblib.dump(model, path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the fraud classifier and print Katib-style metrics.")
    parser.add_argument("--data", required=True, type=Path, help="CSV of transactions (mlplatform.demo.data)")
    parser.add_argument("--learning-rate", type=float, default=Hyperparameters.learning_rate)
    parser.add_argument("--max-depth", type=int, default=Hyperparameters.max_depth)
    parser.add_argument("--max-iter", type=int, default=Hyperparameters.max_iter)
    parser.add_argument("--l2-regularization", type=float, default=Hyperparameters.l2_regularization)
    parser.add_argument("--model-dir", type=Path, help="where to save model.joblib and params.json")
    args = parser.parse_args(argv)

    params = Hyperparameters(args.learning_rate, args.max_depth, args.max_iter, args.l2_regularization)
    train, test = split(pd.read_csv(args.data))
    model = fit(train, params)
    for name, value in score(model, test).items():
        print(f"{name}={value}", flush=True)
    if args.model_dir:
        save(model, args.model_dir)
        (args.model_dir / "params.json").write_text(json.dumps(asdict(params)))


if __name__ == "__main__":
    main()
