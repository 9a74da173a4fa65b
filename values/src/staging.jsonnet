// staging: prod's shape at a smaller size; SQLite state, two model servers, policies on.
local base = import 'base.libsonnet';

local policies = { pdb: { enabled: true, maxUnavailable: 1 }, networkPolicy: { enabled: true } };

base {
  pipelineController+: { networkPolicy: { enabled: true }, persistence: { size: '5Gi' }, auth: { mode: 'kubernetes' } },
  tuningService+: { networkPolicy: { enabled: true }, persistence: { size: '5Gi' }, auth: { mode: 'kubernetes' } },
  modelRegistry+: { networkPolicy: { enabled: true }, persistence: { size: '5Gi' } },
  modelServer+: policies { replicaCount: 2 },
  minio+: { networkPolicy: { enabled: true }, persistence: { size: '20Gi' } },
  prometheus+: { networkPolicy: { enabled: true }, retention: '7d', persistence: { size: '10Gi' } },
  dashboard+: { networkPolicy: { enabled: true } },
  trainingOperator+: { networkPolicy: { enabled: true }, persistence: { size: '5Gi' }, auth: { mode: 'kubernetes' } },
  hooks+: {
    // Both services are multi-user (auth.mode kubernetes) and the hooks send no token yet: no smoke runs.
    validate+: { smoke: { pipeline: false, experiment: false } },
  },
}
