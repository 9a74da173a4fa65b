// dev: one small pod per component, no policies, state that survives pod restarts but not much more.
local base = import 'base.libsonnet';

local small = {
  resources: { requests: { cpu: '50m', memory: '256Mi' }, limits: { memory: '1Gi' } },
};

base {
  pipelineController+: small { persistence: { size: '1Gi' } },
  tuningService+: small { persistence: { size: '1Gi' } },
  modelRegistry+: small { replicaCount: 1, persistence: { size: '1Gi' } },
  modelServer+: small { replicaCount: 1 },
  minio+: small { replicaCount: 1, persistence: { size: '5Gi' } },
  prometheus+: small { replicaCount: 1, retention: '2d', persistence: { size: '2Gi' } },
  dashboard+: small { replicaCount: 1 },
  trainingOperator+: small { persistence: { size: '1Gi' } },
  hooks+: {
    validate+: { smoke: { pipeline: true, experiment: true } },
  },
}
