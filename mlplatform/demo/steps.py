"""Helpers the pipeline's components call inside their tasks."""

from __future__ import annotations

import io

import pandas as pd


def read_transactions(source: str) -> pd.DataFrame:
    """Transactions from a local CSV path or an s3:// URI (MinIO in a cluster, moto locally)."""
    if source.startswith("s3://"):
        from mlplatform.s3 import s3_client, split_uri

        bucket, key = split_uri(source)
        body = s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return pd.read_csv(io.BytesIO(body))
    return pd.read_csv(source)
