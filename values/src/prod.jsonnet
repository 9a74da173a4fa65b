// prod: highly available. PostgreSQL through existing secrets, distributed MinIO with existing
// credentials, Gateway API canaries, autoscaling, PodDisruptionBudgets and NetworkPolicies.
local base = import 'base.libsonnet';

local gatewayNamespace = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gateway-system' } } };
local networkPolicy(extra=[]) = { networkPolicy: { enabled: true, extraIngressFrom: extra } };
local pdb = { pdb: { enabled: true, maxUnavailable: 1 } };
local postgres(secret) = { database: { existingSecret: secret }, persistence: { enabled: false } };
local resources(cpu, memory, limit) = { resources: { requests: { cpu: cpu, memory: memory }, limits: { memory: limit } } };

base {
  global+: {
    s3: { endpoint: '', existingSecret: 'mlplatform-s3' },
  },
  // Singletons: they schedule the work, so they have no PDB (it would block node drains).
  pipelineController+: postgres('mlplatform-pipelines-db') + networkPolicy() + resources('250m', '512Mi', '2Gi')
                      + { auth: { mode: 'kubernetes' } },  // multi-user: TokenReview + SubjectAccessReview
  tuningService+: postgres('mlplatform-tuning-db') + networkPolicy() + resources('250m', '512Mi', '2Gi')
                  + { auth: { mode: 'kubernetes' } },  // multi-user: TokenReview + SubjectAccessReview
  modelRegistry+: postgres('mlplatform-mlflow-db') + networkPolicy([gatewayNamespace]) + pdb
                  + resources('500m', '1Gi', '4Gi') + {
    replicaCount: 2,
    autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 75 },
  },
  modelServer+: networkPolicy([gatewayNamespace]) + pdb + resources('1', '2Gi', '4Gi') + {
    replicaCount: 3,
    router: { type: 'gateway-api' },
    autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 20, targetCPUUtilizationPercentage: 70 },
    mlserver: { parallelWorkers: 2 },
  },
  minio+: networkPolicy() + pdb + resources('500m', '2Gi', '8Gi') + {
    replicaCount: 4,
    auth: { existingSecret: 'mlplatform-s3' },
    persistence: { size: '200Gi' },
  },
  prometheus+: networkPolicy() + pdb + resources('500m', '2Gi', '8Gi') + {
    replicaCount: 2,
    retention: '30d',
    persistence: { size: '100Gi' },
  },
  // The web UI holds no state: two pods behind the gateway, more under load.
  dashboard+: networkPolicy([gatewayNamespace]) + pdb + resources('100m', '256Mi', '512Mi') + {
    replicaCount: 2,
    autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 75 },
  },
  // A singleton like the other controllers; the jobs themselves are the cluster's objects.
  trainingOperator+: postgres('mlplatform-training-db') + networkPolicy() + resources('250m', '512Mi', '2Gi')
                     + { auth: { mode: 'kubernetes' } },
}
