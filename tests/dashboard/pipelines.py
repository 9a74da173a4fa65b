"""The pipelines the dashboard tests run (no `from __future__`: kfp reads the real annotations)."""

from kfp import dsl
from kfp.dsl import HTML, ClassificationMetrics, Dataset, Input, Markdown, Metrics, Output

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE)
def make_table(rows: int, table: Output[Dataset]):
    with open(table.path, "w") as handle:
        handle.write("amount,label\n" + "".join(f"{10 * i},{i % 2}\n" for i in range(rows)))


@dsl.component(base_image=IMAGE)
def score(table: Input[Dataset], metrics: Output[Metrics], roc: Output[ClassificationMetrics],
          report: Output[HTML], notes: Output[Markdown]) -> float:
    with open(table.path) as handle:
        lines = handle.read().splitlines()[1:]
    metrics.log_metric("rows", len(lines))
    metrics.log_metric("accuracy", 0.875)
    roc.log_roc_curve(fpr=[0.0, 0.1, 0.4, 1.0], tpr=[0.0, 0.6, 0.9, 1.0], threshold=[1.0, 0.7, 0.4, 0.0])
    roc.log_confusion_matrix(["legit", "fraud"], [[40, 2], [3, 15]])
    with open(report.path, "w") as handle:
        handle.write("<h1>Scored</h1><p>fine</p>")
    with open(notes.path, "w") as handle:
        handle.write("# Notes\n\n*all* good")
    return 0.875


@dsl.component(base_image=IMAGE)
def square(x: int) -> int:
    return x * x


@dsl.component(base_image=IMAGE)
def explode(message: str):
    print(f"about to fail: {message}")
    raise RuntimeError(message)


@dsl.component(base_image=IMAGE)
def wait(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


@dsl.component(base_image=IMAGE)
def fail_first(marker: str, seconds: float) -> str:
    """Fails while `marker` is missing (and leaves it behind); once it exists, waits `seconds` and succeeds."""
    import os
    import time

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first attempt fails; a retry succeeds")
    time.sleep(seconds)
    return "retried"


@dsl.pipeline(name="scoring")
def scoring(rows: int = 8):
    table = make_table(rows=rows)
    score(table=table.outputs["table"])


@dsl.pipeline(name="shapes")
def shapes(rows: int = 4, fail: bool = True):
    """Nested pipeline, loop and condition, and a task that fails."""
    scoring(rows=rows)
    with dsl.ParallelFor(items=[1, 2]) as number:
        square(x=number)
    with dsl.If(fail == True):  # a kfp condition, not a Python comparison
        explode(message="the boom the test looks for")


@dsl.pipeline(name="slow-chain")
def slow_chain(seconds: float = 3.0):
    first = wait(seconds=seconds)
    wait(seconds=seconds).after(first)


@dsl.pipeline(name="fails-once")
def fails_once(marker: str, seconds: float = 3.0):
    """Fails on its first run; Retry runs it again and it succeeds (no retry policy: the run itself fails)."""
    fail_first(marker=marker, seconds=seconds).set_caching_options(False)
