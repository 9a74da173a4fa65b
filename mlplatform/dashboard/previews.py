"""Artifact previews on the task panel: Metrics as a table, ClassificationMetrics as a confusion matrix and
a ROC curve, HTML (sandboxed), Markdown, a CSV's head, or the start of a text file.

Metrics come from the artifact's metadata (the KFP API answers them); file contents are read from the
artifact's S3 URI with the S3 API, never more than PREVIEW_BYTES.
"""

from __future__ import annotations

import csv
import io

from markdown_it import MarkdownIt

from mlplatform.dashboard.settings import Settings

PREVIEW_BYTES = 64 * 1024
CSV_ROWS = 10
TEXT_LINES = 40


def preview(artifact: dict, settings: Settings) -> dict:
    kind = artifact.get("type", "")
    metadata = artifact.get("metadata") or {}
    if kind == "system.Metrics":
        return {"kind": "metrics", "rows": [(k, v) for k, v in metadata.items() if k != "display_name"]}
    if kind == "system.ClassificationMetrics":
        return classification(metadata)
    if kind == "system.Model":
        return {"kind": "metadata", "rows": list(metadata.items())}
    try:
        content = read_head(artifact["uri"], settings)
    except PreviewUnavailable as problem:
        return {"kind": "none", "reason": str(problem)}
    return content_preview(kind, artifact["uri"], content)


def classification(metadata: dict) -> dict:
    matrix = metadata.get("confusionMatrix") or {}
    categories = matrix.get("annotationSpecs") or matrix.get("categories") or []
    names = [c.get("displayName", c) if isinstance(c, dict) else str(c) for c in categories]
    rows = [row.get("row", row) if isinstance(row, dict) else row for row in matrix.get("rows", [])]
    roc = [{"threshold": p.get("confidenceThreshold"), "fpr": p.get("falsePositiveRate"), "tpr": p.get("recall")}
           for p in metadata.get("confidenceMetrics") or []]
    return {"kind": "classification", "categories": names, "matrix": rows, "roc": roc}


def content_preview(kind: str, uri: str, content: bytes) -> dict:
    text = content.decode("utf-8", errors="replace")
    truncated = len(content) >= PREVIEW_BYTES
    if kind == "system.HTML":
        return {"kind": "html", "html": text, "truncated": truncated}
    if kind == "system.Markdown":
        return {"kind": "markdown", "html": MarkdownIt("commonmark", {"html": False}).render(text)}
    table = csv_head(text) if uri.endswith(".csv") or _looks_like_csv(text) else None
    if table:
        return {"kind": "csv", "header": table[0], "rows": table[1:]}
    return {"kind": "text", "text": "\n".join(text.splitlines()[:TEXT_LINES]), "truncated": truncated}


def csv_head(text: str) -> list[list[str]] | None:
    try:
        rows = list(csv.reader(io.StringIO(text)))[:CSV_ROWS + 1]
    except csv.Error:
        return None
    return rows if rows and len(rows[0]) > 1 else None


def _looks_like_csv(text: str) -> bool:
    lines = text.splitlines()[:5]
    return len(lines) >= 2 and len({line.count(",") for line in lines if line}) == 1 and lines[0].count(",") > 0


class PreviewUnavailable(Exception):
    pass


def read_head(uri: str, settings: Settings) -> bytes:
    if not uri.startswith("s3://"):
        raise PreviewUnavailable(f"no preview: {uri} is not in S3")
    from botocore.exceptions import BotoCoreError, ClientError

    from mlplatform.s3 import s3_client, split_uri

    bucket, key = split_uri(uri)
    client = s3_client(settings.s3_url, settings.s3_credentials)
    try:
        answer = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{PREVIEW_BYTES - 1}")
    except (BotoCoreError, ClientError) as error:  # a missing key, a directory artifact, S3 down
        raise PreviewUnavailable(f"no preview of {uri}: {error}") from None
    return answer["Body"].read()
