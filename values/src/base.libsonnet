// What every environment shares. Each <env>.jsonnet merges its changes into this with `+:`, so lists
// and maps extend the base instead of replacing it (Helm would replace them between -f files).
{
  global: {
    imageRegistry: '',
    imagePullSecrets: [],
  },

  pipelineController: { enabled: true },
  tuningService: { enabled: true },
  modelRegistry: { enabled: true },
  minio: { enabled: true },
  prometheus: { enabled: true },
  dashboard: { enabled: true },
  trainingOperator: { enabled: true },

  modelServer: {
    enabled: true,
    // Serve nothing until the register hook has registered a model: a fresh cluster has no artifacts,
    // and `helm install --wait` waits for the model server before post-install hooks run.
    models: [],
    router: { type: 'replicas' },
  },

  hooks: {
    preflight: { enabled: true, minKubernetesVersion: '1.30' },
    register: {
      enabled: true,
      registry: 'mlflow',
      buckets: ['mlpipeline', 'mlflow', 'models'],
      models: [],
      pipelines: [],
      experiments: [],
    },
    canaryAnalysis: { enabled: true },
    validate: { enabled: true, smoke: { pipeline: false, experiment: false } },
  },
}
