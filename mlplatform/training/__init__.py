"""The training operator (issue 16): Kubeflow's `kubeflow.org/v1` PyTorchJob and TFJob.

    spec.py        a manifest -> TrainingJob, refusing what the CRD schema and the operator refuse
    topology.py    the replicas, their labels, and the operator's env (MASTER_ADDR, RANK, PET_*, TF_CONFIG)
    engine.py      the one model: jobs in the store, the reconcile loop, conditions and restart policies
    local.py       replicas as local processes (the local runner) on 127.0.0.1
    kubernetes.py  replicas as batch Jobs with a headless Service each, gang-started
    resources.py   the REST door (mlplatform.kubeapi): /apis/kubeflow.org/v1/.../pytorchjobs|tfjobs
    pods.py        local mode's /api/v1 pods and pods/log, for TrainingClient.get_job_pods/get_job_logs
    controller.py  cluster mode: the controller of the PyTorchJob and TFJob objects
"""
