"""The tuning service: Katib Experiment specs run on Optuna.

    spec.py             reading and validating Experiments (every problem reported at once, unknown fields too)
    algorithms.py       Katib algorithms -> Optuna samplers, distributions, the median and hyperband pruners
    collectors.py       StdOut / File / Push metrics -> observations and objective values
    trials.py           trial templates and the Job backend on the shared runners
    pipeline_trials.py  the PipelineRun backend: trials that are runs on the pipeline controller
    training_trials.py  the PyTorchJob/TFJob backend: trials that are jobs of the training operator
    store.py            experiments, trials and pushed metrics in SQL (Optuna's study tables beside them)
    engine.py           ask-and-tell, Katib's completion rules, trial watchers, restart recovery
    status.py           Katib-shaped Experiment and Trial objects
    api.py, service.py, cli.py, monitoring.py   the HTTP service, its assembly, `mlp serve tuning`, /metrics
    dashboard_api.py    every trial's parameters and metric history in one call
    resources.py        Experiments, Trials, Suggestions as kubeflow.org/v1beta1 resources (mlplatform.kubeapi)
    controller.py       cluster mode: the controller of Experiment objects (--watch-namespaces)
    push.py             report_metrics(), used inside trials

Only `report_metrics` is imported here, so trials can use it without the server's dependencies.
"""

from mlplatform.tuning.push import report_metrics

__all__ = ["report_metrics"]
