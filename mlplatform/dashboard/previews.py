"""Artifact previews on the task panel: Metrics as a table, ClassificationMetrics as a confusion matrix and
a ROC curve, HTML (sandboxed), Markdown, a CSV's head, or the start of a text file.

Metrics come from the artifact's metadata (the KFP API answers them); a file's first PREVIEW_BYTES come from
the pipeline controller's artifact content endpoint, with the viewer's token like every other call, so the
dashboard needs no S3 credentials and sees only what its viewer may see.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from markdown_it import MarkdownIt

from mlplatform.dashboard.backends import Backend, BackendProblem

PREVIEW_BYTES = 64 * 1024
CSV_ROWS = 10
TEXT_LINES = 40


def preview(artifact: dict, run_id: str, backend: Backend) -> dict:
    kind = artifact.get("type", "")
    metadata = artifact.get("metadata") or {}
    if kind == "system.Metrics":
        return {"kind": "metrics", "rows": [(k, v) for k, v in metadata.items() if k != "display_name"]}
    if kind == "system.ClassificationMetrics":
        return classification(metadata)
    if kind == "system.Model":
        return {"kind": "metadata", "rows": list(metadata.items())}
    try:
        content = read_head(artifact, run_id, backend)
    except BackendProblem as problem:   # a directory artifact, an object gone from the store, S3 down
        return {"kind": "none", "reason": f"no preview of {artifact['uri']}: {problem}"}
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


def read_head(artifact: dict, run_id: str, backend: Backend) -> bytes:
    path = (f"/apis/v2beta1/runs/{quote(run_id, safe='')}/tasks/{quote(artifact['task_id'], safe='')}"
            f"/artifacts/{quote(artifact['output_name'], safe='')}/content")
    return backend.content(path, {"max_bytes": PREVIEW_BYTES})
