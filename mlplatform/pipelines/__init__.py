"""The pipeline controller: Kubeflow Pipelines v2 IR, run unchanged, behind the KFP v2beta1 REST API.

api/        the HTTP surface kfp.Client 2.x talks to (experiments, pipelines, runs) plus our extensions
ir/         the compiled pipeline (IR): package reading, validation, parameters, CEL conditions, placeholders
store/      SQL state through SQLAlchemy: experiments, pipelines, versions, runs, tasks, logs
engine/     the controller: walks each run's DAG, builds ExecutorInputs, starts tasks on a runner,
            collects outputs, retries, caches, resumes after a restart
launcher/   the program that moves a task's artifacts between S3 and the task's filesystem
artifacts.py where artifacts live: a local directory or s3://bucket/prefix
service.py  wiring: store + runner + engine + API, served by `mlp serve pipelines` (cli.py)
"""
