"""The pipelines the tests run, written as a data scientist writes them (no `from __future__`: kfp
reads the real annotations). Each test compiles what it needs with kfp's compiler."""

from typing import NamedTuple

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

IMAGE = "python:3.11"


# --- fraud detection: preprocess CSV -> Dataset, train -> Model + Metrics, evaluate ------------------


@dsl.component(base_image=IMAGE)
def preprocess(rows: int, seed: int, transactions: Output[Dataset]) -> int:
    """Synthetic card transactions: amount, hour, label (1 = fraud)."""
    import csv
    import random

    generator = random.Random(seed)
    with open(transactions.path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["amount", "hour", "label"])
        for _ in range(rows):
            fraud = generator.random() < 0.2
            amount = generator.uniform(500, 2000) if fraud else generator.uniform(1, 600)
            writer.writerow([round(amount, 2), generator.randint(0, 23), int(fraud)])
    transactions.metadata["rows"] = rows
    return rows


@dsl.component(base_image=IMAGE)
def train(
    transactions: Input[Dataset], margin: float, model: Output[Model], metrics: Output[Metrics]
) -> float:
    """A threshold classifier on the amount: the midpoint between the classes' means, plus a margin."""
    import csv
    import json

    with open(transactions.path) as handle:
        rows = [(float(r["amount"]), int(r["label"])) for r in csv.DictReader(handle)]
    fraud = [a for a, label in rows if label]
    legit = [a for a, label in rows if not label]
    threshold = (sum(fraud) / len(fraud) + sum(legit) / len(legit)) / 2 + margin
    with open(model.path, "w") as handle:
        json.dump({"threshold": threshold}, handle)
    model.metadata["framework"] = "threshold"
    accuracy = sum((a > threshold) == bool(label) for a, label in rows) / len(rows)
    metrics.log_metric("train_accuracy", accuracy)
    return threshold


@dsl.component(base_image=IMAGE)
def evaluate(transactions: Input[Dataset], model: Input[Model], metrics: Output[Metrics]) -> float:
    import csv
    import json

    with open(model.path) as handle:
        threshold = json.load(handle)["threshold"]
    with open(transactions.path) as handle:
        rows = [(float(r["amount"]), int(r["label"])) for r in csv.DictReader(handle)]
    accuracy = sum((a > threshold) == bool(label) for a, label in rows) / len(rows)
    metrics.log_metric("accuracy", accuracy)
    return accuracy


@dsl.pipeline(name="fraud-detection", description="preprocess, train, evaluate")
def fraud_detection(rows: int = 400, seed: int = 7, margin: float = 0.0) -> float:
    prepared = preprocess(rows=rows, seed=seed)
    trained = train(transactions=prepared.outputs["transactions"], margin=margin)
    evaluated = evaluate(transactions=prepared.outputs["transactions"], model=trained.outputs["model"])
    return evaluated.outputs["Output"]


# --- parameters of every type, conditions --------------------------------------------------------


@dsl.component(base_image=IMAGE)
def describe(text: str, count: int, ratio: float, flag: bool, items: list, config: dict) -> str:
    assert isinstance(count, int) and isinstance(ratio, float) and isinstance(flag, bool)
    assert isinstance(items, list) and isinstance(config, dict)
    return f"{text}|{count}|{ratio}|{flag}|{items}|{sorted(config.items())}"


@dsl.component(base_image=IMAGE)
def echo(message: str) -> str:
    print(message)
    return message


@dsl.pipeline(name="every-parameter-type")
def every_type(
    text: str,
    count: int,
    ratio: float = 0.5,
    flag: bool = True,
    items: list = [1, 2],
    config: dict = {"k": "v"},
) -> str:
    return describe(text=text, count=count, ratio=ratio, flag=flag, items=items, config=config).output


@dsl.pipeline(name="conditions")
def conditions(score: int = 5):
    with dsl.If(score > 7):
        echo(message="high")
    with dsl.Elif(score > 3):
        echo(message="medium")
    with dsl.Else():
        echo(message="low")


# --- fan-out / fan-in ------------------------------------------------------------------------------


@dsl.component(base_image=IMAGE)
def square(x: int) -> int:
    import time

    time.sleep(0.3)
    return x * x


@dsl.component(base_image=IMAGE)
def total(values: list[int]) -> int:
    return sum(values)


@dsl.component(base_image=IMAGE)
def shard(index: int, part: Output[Dataset]):
    with open(part.path, "w") as handle:
        handle.write(str(index))


@dsl.component(base_image=IMAGE)
def merge(parts: Input[list[Dataset]]) -> str:
    return ",".join(sorted(open(part.path).read() for part in parts))


@dsl.pipeline(name="fan-out-fan-in")
def fan_out(numbers: list = [1, 2, 3, 4, 5]) -> int:
    with dsl.ParallelFor(items=numbers, parallelism=2) as number:
        squared = square(x=number)
    with dsl.ParallelFor(items=[1, 2, 3]) as index:
        part = shard(index=index)
    merge(parts=dsl.Collected(part.outputs["part"]))
    return total(values=dsl.Collected(squared.output)).output


# --- exit handler, retries -------------------------------------------------------------------------


@dsl.component(base_image=IMAGE)
def fail(message: str):
    raise RuntimeError(message)


@dsl.component(base_image=IMAGE)
def report(status: dsl.PipelineTaskFinalStatus) -> str:
    print("final status", status.state, status.error_message)
    return status.state


@dsl.pipeline(name="exit-handler")
def exit_handler(message: str = "boom"):
    cleanup = report()
    with dsl.ExitHandler(cleanup):
        echo(message="before")
        fail(message=message)


@dsl.component(base_image=IMAGE)
def flaky(counter_file: str, failures: int) -> int:
    """Fails its first `failures` attempts; the counter lives in a file the test provides."""
    import os

    attempt = int(open(counter_file).read()) + 1 if os.path.exists(counter_file) else 1
    with open(counter_file, "w") as handle:
        handle.write(str(attempt))
    if attempt <= failures:
        raise RuntimeError(f"flaky failure on attempt {attempt}")
    return attempt


@dsl.pipeline(name="retries")
def retries(counter_file: str, failures: int = 2):
    flaky(counter_file=counter_file, failures=failures).set_retry(
        num_retries=3, backoff_duration="1s", backoff_factor=1.0
    ).set_caching_options(False)


# --- caching, nested pipelines, pipeline outputs ---------------------------------------------------


@dsl.component(base_image=IMAGE)
def slow_double(x: int) -> int:
    import time

    time.sleep(1)
    return 2 * x


@dsl.pipeline(name="cacheable")
def cacheable(x: int = 3) -> int:
    first = slow_double(x=x)
    return slow_double(x=first.output).output


@dsl.pipeline(name="inner")
def inner(x: int) -> NamedTuple("InnerOutputs", [("doubled", int), ("label", str)]):
    doubled = square(x=x)
    labelled = echo(message=f"inner-{x}")
    outputs = NamedTuple("InnerOutputs", [("doubled", int), ("label", str)])
    return outputs(doubled=doubled.output, label=labelled.output)


@dsl.pipeline(name="outer")
def outer(x: int = 4) -> str:
    nested = inner(x=x)
    return echo(message=f"{nested.outputs['label']}:{nested.outputs['doubled']}").output


# --- a container component (command kept as written) -----------------------------------------------


@dsl.container_component
def shell_greeting(name: str, greeting: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c"],
        args=[
            dsl.ConcatPlaceholder(
                ["mkdir -p $(dirname ", greeting, ") && printf 'hello ", name, "' > ", greeting]
            )
        ],
    )


@dsl.pipeline(name="container-component")
def container_pipeline(name: str = "world") -> str:
    return echo(message=shell_greeting(name=name).outputs["greeting"]).output


@dsl.component(base_image=IMAGE)
def sleep_for(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


@dsl.pipeline(name="sleepy-chain")
def sleepy_chain(seconds: float = 2.0):
    first = sleep_for(seconds=seconds).set_caching_options(False)
    second = sleep_for(seconds=seconds).after(first).set_caching_options(False)
    sleep_for(seconds=seconds).after(second).set_caching_options(False)


def compile_to(pipeline, directory) -> str:
    path = str(directory / f"{pipeline.name}.yaml")
    compiler.Compiler().compile(pipeline, path)
    return path


# --- loops over structs, dsl.OneOf, importer -------------------------------------------------------


@dsl.component(base_image=IMAGE)
def label(name: str, weight: int) -> str:
    return f"{name}={weight}"


@dsl.component(base_image=IMAGE)
def read_text(source: Input[Dataset]) -> str:
    return open(source.path).read()


@dsl.pipeline(name="structs-oneof-importer")
def structs_oneof_importer(
    rows: list = [{"title": "a", "weight": 1}, {"title": "b", "weight": 2}],
    source_uri: str = "",
    heads: bool = True,
) -> str:
    with dsl.ParallelFor(items=rows) as row:
        label(name=row.title, weight=row.weight)
    with dsl.If(heads == True):
        chosen_heads = echo(message="heads")
    with dsl.Else():
        chosen_tails = echo(message="tails")
    echo(message=dsl.OneOf(chosen_heads.output, chosen_tails.output))
    imported = dsl.importer(artifact_uri=source_uri, artifact_class=Dataset, metadata={"origin": "test"})
    return read_text(source=imported.output).output


# --- container components only: what the Kubernetes test runs through local Job pods -------------


@dsl.container_component
def write_text(text: str, out: Output[Dataset], length: dsl.OutputPath(int)):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=[
            "sh",
            "-c",
            'mkdir -p "$(dirname "$1")" "$(dirname "$2")" && printf %s "$0" > "$1" '
            '&& printf %s "${#0}" > "$2"',
        ],
        args=[text, out.path, length],
    )


@dsl.container_component
def shout(source: Input[Dataset], loud: Output[Dataset]):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c", 'mkdir -p "$(dirname "$1")" && tr a-z A-Z < "$0" > "$1" && cat "$1"'],
        args=[source.path, loud.path],
    )


@dsl.pipeline(name="containers-on-kubernetes")
def containers_only(text: str = "hello pods") -> int:
    written = write_text(text=text).set_cpu_request("100m").set_memory_limit("256Mi")
    shout(source=written.outputs["out"])
    return written.outputs["length"]


# --- a file artifact bigger than one content read, and a directory artifact -----------------------


@dsl.component(base_image=IMAGE)
def write_outputs(kib: int, report: Output[Dataset], folder: Output[Dataset]):
    import os

    with open(report.path, "w") as handle:
        handle.write("".join(f"line {i:07d}\n" for i in range(kib * 1024 // 13 + 1)))
    os.makedirs(folder.path)
    with open(os.path.join(folder.path, "part-0.txt"), "w") as handle:
        handle.write("part")


@dsl.pipeline(name="file-and-directory")
def file_and_directory(kib: int = 300):
    write_outputs(kib=kib)
