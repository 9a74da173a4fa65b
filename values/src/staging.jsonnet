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
    // Both services are multi-user (auth.mode kubernetes): the hooks send their projected token. The smoke
    // experiment's trials would run in the release namespace, which is no profile (no runner ServiceAccount).
    validate+: { smoke: { pipeline: true, experiment: false } },
  },
}
