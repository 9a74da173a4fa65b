local s = import '../mlplatform-lib/schema.libsonnet';

s.chart('prometheus', s.workload {
  replicaCount: s.integer(1, 10),
  scrapeInterval: s.duration,
  evaluationInterval: s.duration,
  retention: s.duration,
  externalLabels: s.stringMap,
  alertmanagers: s.array(s.pattern('^[^\\s:/]+:[0-9]{1,5}$', 'host:port')),
  extraScrapeConfigs: s.array(s.kubernetesObject),
  persistence: s.statefulPersistence,
  rbac: s.object({ create: s.boolean() }),
})
