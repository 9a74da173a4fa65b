"""Synthetic card transactions with a fraud label.

The features follow the shape of public card-fraud datasets: how far from home and from the last
transaction the card was used, the amount relative to the cardholder's median purchase, and how it was
used (chip, PIN, online, a retailer seen before). Fraud is drawn from a logistic model of those
features, so a classifier can learn it but not perfectly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = [
    "distance_from_home",
    "distance_from_last_transaction",
    "amount_ratio",
    "amount",
    "hour",
    "repeat_retailer",
    "used_chip",
    "used_pin",
    "online_order",
]
LABEL = "fraud"


def generate_transactions(rows: int = 20_000, seed: int = 7) -> pd.DataFrame:
    """`rows` transactions, about 4% of them fraudulent."""
    if rows < 100:
        raise ValueError(f"rows must be at least 100 to hold both classes, got {rows}")
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "distance_from_home": rng.lognormal(mean=2.0, sigma=1.2, size=rows),
        "distance_from_last_transaction": rng.lognormal(mean=0.5, sigma=1.3, size=rows),
        "amount_ratio": rng.lognormal(mean=0.0, sigma=0.8, size=rows),
        "hour": rng.integers(0, 24, size=rows),
        "repeat_retailer": rng.random(rows) < 0.88,
        "used_chip": rng.random(rows) < 0.35,
        "used_pin": rng.random(rows) < 0.10,
        "online_order": rng.random(rows) < 0.65,
    })
    frame["amount"] = (frame["amount_ratio"] * rng.gamma(shape=2.0, scale=30.0, size=rows)).round(2)
    frame[LABEL] = rng.random(rows) < _fraud_probability(frame)
    bool_columns = ["repeat_retailer", "used_chip", "used_pin", "online_order", LABEL]
    frame[bool_columns] = frame[bool_columns].astype(int)
    return frame[FEATURES + [LABEL]]


def _fraud_probability(frame: pd.DataFrame) -> np.ndarray:
    night = ((frame["hour"] < 6) | (frame["hour"] > 22)).astype(float)
    score = (
        -7.1
        + 1.5 * np.log1p(frame["distance_from_home"]) / 2
        + 0.9 * np.log1p(frame["distance_from_last_transaction"])
        + 1.6 * np.clip(np.log(frame["amount_ratio"]), -2, 4)
        + 1.3 * frame["online_order"]
        - 1.4 * frame["used_chip"]
        - 2.5 * frame["used_pin"]
        - 0.6 * frame["repeat_retailer"]
        + 0.8 * night
    )
    return 1.0 / (1.0 + np.exp(-score))
