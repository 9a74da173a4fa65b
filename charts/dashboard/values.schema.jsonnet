local s = import '../mlplatform-lib/schema.libsonnet';

local backend(what) = s.object({
  enabled: s.boolean('Pass the %s URL to the dashboard.' % what),
  url: s.optionalUrl + { description: 'The %s; empty means the Service of the release.' % what },
});

s.chart('dashboard', s.workload {
  replicaCount: s.integer(1, 20),
  autoscaling: s.autoscaling,
  backends: s.object({
    pipelines: backend('pipeline controller'),
    tuning: backend('tuning service'),
    registry: backend('model registry'),
    prometheus: backend('Prometheus'),
    modelServer: backend('model server'),
  }),
  ingress: s.object({
    enabled: s.boolean(),
    className: s.optionalK8sName,
    annotations: s.stringMap,
    host: s.pattern('^(\\*\\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$|^$', 'A DNS name, optionally *.-prefixed; empty: every host.'),
    path: s.pattern('^/\\S*$', 'An absolute path.'),
    pathType: s.enum(['Prefix', 'Exact', 'ImplementationSpecific']),
    tls: s.array(s.object({ hosts: s.array(s.nonEmptyString()), secretName: s.optionalK8sName })),
  }),
  networkPolicy: s.networkPolicy { properties+: { extraEgress: s.array(s.kubernetesObject) } },
})
