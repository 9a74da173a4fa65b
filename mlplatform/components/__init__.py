"""Reusable KFP components for pipelines on the platform.

    from mlplatform.components import pytorch_job

    pytorch_job(name="ddp", command=["python", "-m", "train"], workers=1, training_url=...)

pytorchjob.py   submit a kubeflow.org/v1 PyTorchJob to the training operator and wait for it
"""

from mlplatform.components.pytorchjob import pytorch_job

__all__ = ["pytorch_job"]
