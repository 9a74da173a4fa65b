"""The fraud-detection training pipeline (no `from __future__ import annotations`: kfp reads real
annotations), written with the kfp SDK as a data scientist would.

prepare -> train -> evaluate. The component bodies call mlplatform.demo's trainer, so the pipeline,
the tuning trials and the final model train identically. Tasks run in the platform image, which
carries mlplatform; locally they run in the same environment as the controller.
"""


from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

PLATFORM_IMAGE = "ghcr.io/mlplatform/mlplatform:0.1.0"


@dsl.component(base_image=PLATFORM_IMAGE)
def prepare(source: str, train_set: Output[Dataset], test_set: Output[Dataset]) -> int:
    """Read the transactions (a path or s3:// URI) and split them; returns the row count."""
    from mlplatform.demo.steps import read_transactions
    from mlplatform.demo.trainer import split

    frame = read_transactions(source)
    train, test = split(frame)
    train.to_csv(train_set.path, index=False)
    test.to_csv(test_set.path, index=False)
    train_set.metadata["rows"] = len(train)
    test_set.metadata["rows"] = len(test)
    return len(frame)


@dsl.component(base_image=PLATFORM_IMAGE)
def train(train_set: Input[Dataset], learning_rate: float, max_depth: int, max_iter: int, model: Output[Model]):
    """Fit the classifier and save it in the layout MLServer's sklearn runtime loads."""
    from pathlib import Path

    import pandas as pd

    from mlplatform.demo.trainer import Hyperparameters, fit, save

    params = Hyperparameters(learning_rate=learning_rate, max_depth=max_depth, max_iter=max_iter)
    save(fit(pd.read_csv(train_set.path), params), Path(model.path))
    model.metadata.update({"framework": "sklearn", "learning_rate": learning_rate, "max_depth": max_depth})


@dsl.component(base_image=PLATFORM_IMAGE)
def evaluate(model: Input[Model], test_set: Input[Dataset], metrics: Output[Metrics]) -> float:
    """Score the model on the held-out set; returns the ROC AUC."""
    from pathlib import Path

    import joblib
    import pandas as pd

    from mlplatform.demo.trainer import MODEL_FILE, score

    scores = score(joblib.load(Path(model.path) / MODEL_FILE), pd.read_csv(test_set.path))
    for name, value in scores.items():
        metrics.log_metric(name, value)
    return scores["auc"]


@dsl.pipeline(name="fraud-training", description="Prepare card transactions, train a fraud classifier, evaluate it.")
def fraud_training(source: str, learning_rate: float = 0.1, max_depth: int = 4, max_iter: int = 100) -> float:
    prepared = prepare(source=source)
    trained = train(train_set=prepared.outputs["train_set"], learning_rate=learning_rate,
                    max_depth=max_depth, max_iter=max_iter)
    evaluated = evaluate(model=trained.outputs["model"], test_set=prepared.outputs["test_set"])
    return evaluated.outputs["Output"]


def compile_to(path: str) -> str:
    compiler.Compiler().compile(fraud_training, package_path=path)
    return path
