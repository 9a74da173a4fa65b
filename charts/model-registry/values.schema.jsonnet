local s = import '../mlplatform-lib/schema.libsonnet';

s.chart('model-registry', s.workload {
  replicaCount: s.integer(1, 20),
  workers: s.integer(1, 32),
  artifacts: s.object({ bucket: s.pattern('^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', 'An S3 bucket name.') }),
  allowedHosts: s.array(s.nonEmptyString()),
  metrics: s.object({ enabled: s.boolean() }),
  database: s.database,
  persistence: s.persistence,
  autoscaling: s.autoscaling,
})
