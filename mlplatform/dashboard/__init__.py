"""The dashboard: the platform's web UI (docs/dashboard.md).

It renders pages from the public APIs only (KFP v2beta1, the tuning API, MLflow, Prometheus, local mode's
state) and keeps no state of its own. `mlp serve dashboard` serves it; the pipeline controller also
serves it at `/`, so kfp.Client's "Run details" links (`<host>/#/runs/details/<id>`) open the run page.
"""
