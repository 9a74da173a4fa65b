"""Reusable KFP components for pipelines on the platform.

    from mlplatform.components import pytorch_job

    pytorch_job(command=["python", "-m", "train"], workers=1, training_url=...)

pytorchjob.py   the component: submit a kubeflow.org/v1 PyTorchJob to the training operator and wait for it
jobs.py         what it runs (no kfp needed), also usable from plain Python: run_pytorchjob()

The components are imported on first use: inside a running task kfp.dsl has no decorators, and the task
imports only jobs.py.
"""

__all__ = ["pytorch_job"]


def __getattr__(name: str):
    if name == "pytorch_job":
        from mlplatform.components.pytorchjob import pytorch_job

        return pytorch_job
    raise AttributeError(f"module 'mlplatform.components' has no attribute {name!r}")
