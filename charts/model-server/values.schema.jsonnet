local s = import '../mlplatform-lib/schema.libsonnet';

// contracts §6: one model the server loads.
local model = s.object({
  name: s.pattern('^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$', 'The MLServer model name: lowercase letters, digits and dashes.'),
  uri: s.pattern('^(models:/[A-Za-z0-9._-]+(/[0-9]+|@[A-Za-z0-9_-]+)|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/\\S*)?)$',
                 'models:/<name>/<version>, models:/<name>@<alias> or s3://bucket/prefix'),
  implementation: s.pattern('^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$', 'The MLServer runtime class, e.g. mlserver_sklearn.SKLearnModel'),
}, required=['name', 'uri', 'implementation']);

s.chart('model-server', s.workload {
  models: s.array(model),
  canary: s.object({
    enabled: s.boolean(),
    weight: s.integer(0, 100, 'Percent of the traffic to the canary track.'),
    models: s.array(model),
    replicas: s.integer(0, 100),
    analysis: s.object({
      intervalSeconds: s.integer(1, 3600),
      iterations: s.integer(1, 1000),
      failureLimit: s.integer(0, 1000),
      minRequests: s.integer(0),
      minSuccessRate: s.number(0, 1),
      maxLatencyP99Seconds: s.number(0) + { exclusiveMinimum: 0 },
      maxLatencyRatio: s.number(1),
    }),
  }),
  router: s.object({
    type: s.enum(['replicas', 'gateway-api', 'istio', 'nginx']),
    gatewayApi: s.object({ parentRefs: s.array(s.kubernetesObject), hostnames: s.array(s.nonEmptyString()) }),
    istio: s.object({ hosts: s.array(s.nonEmptyString()), gateways: s.array(s.nonEmptyString()) }),
    nginx: s.object({
      className: s.string(),
      host: s.pattern('^([a-z0-9*]([-a-z0-9.]*[a-z0-9])?)?$'),
      path: s.pattern('^/'),
      annotations: s.stringMap,
      tls: s.array(s.kubernetesObject),
    }),
  }),
  replicaCount: s.integer(0, 100),
  mlserver: s.object({ parallelWorkers: s.integer(0, 64) }),
  registry: s.object({ trackingUri: s.optionalUrl }),
  fetch: s.object({ resources: s.resources }),
  autoscaling: s.autoscaling,
})
