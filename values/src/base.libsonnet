// What every environment shares. Each <env>.jsonnet merges its changes into this with `+:`, so lists
// and maps extend the base instead of replacing it (Helm would replace them between -f files).
{
  local fraud = {
    name: 'fraud',
    uri: 'models:/fraud@champion',
    implementation: 'mlserver_sklearn.SKLearnModel',
  },

  global: {
    imageRegistry: '',
    imagePullSecrets: [],
  },

  pipelineController: { enabled: true },
  tuningService: { enabled: true },
  modelRegistry: { enabled: true },
  minio: { enabled: true },
  prometheus: { enabled: true },

  modelServer: {
    enabled: true,
    models: [fraud],
    router: { type: 'replicas' },
  },

  hooks: {
    preflight: { enabled: true, minKubernetesVersion: '1.30' },
    register: {
      enabled: true,
      registry: 'mlflow',
      buckets: ['mlpipeline', 'mlflow', 'models'],
      models: [{
        name: 'fraud',
        description: 'Card fraud classifier (the demo model).',
        tags: { team: 'risk' },
        versions: [{ source: 's3://models/fraud/1', version: '1', aliases: ['champion'], tags: {} }],
      }],
      pipelines: [{ name: 'fraud-training', version: 'v1', source: 's3://mlpipeline/pipelines/fraud-training.yaml' }],
      experiments: [],
    },
    canaryAnalysis: { enabled: true },
    validate: { enabled: true, smoke: { pipeline: false, experiment: false } },
  },
}
