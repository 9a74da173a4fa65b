"""Local mode: the whole platform as local processes (DESIGN §7, contracts §7).

    platform.py       up / status / down / stop_process: the lifecycle
    supervisor.py     detached processes, health probes, stopping with no orphans
    state.py          the state directory: endpoints.json, processes.json, values.yaml, logs/
    components/       one launcher per process: moto (S3), MLflow, two MLServers, nginx, Prometheus,
                      the pipeline controller and the tuning service
    model_values.py   apply_model_server_values: local mode's `helm upgrade` of the model server
    cli.py            `mlp local up|down|status|apply`
"""
