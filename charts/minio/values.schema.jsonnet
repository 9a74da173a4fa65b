local s = import '../mlplatform-lib/schema.libsonnet';

s.chart('minio', s.workload {
  replicaCount: s.integer(1, 32, '1 (standalone) or 4 and more (distributed).'),
  clusterDomain: s.pattern('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$'),
  auth: s.object({
    rootUser: s.pattern('^[A-Za-z0-9_.-]{3,128}$', 'MinIO needs 3 characters or more.'),
    existingSecret: s.optionalK8sName,
  }),
  console: s.object({ enabled: s.boolean() }),
  metrics: s.object({ enabled: s.boolean() }),
  persistence: s.statefulPersistence,
})
