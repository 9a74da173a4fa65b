"""mlplatform: a Kubeflow-style ML platform shipped as one Helm chart suite."""

__version__ = "0.1.0"
