// Building blocks of every chart's values.schema.json (each chart's values.schema.jsonnet uses them;
// `mlp values render` writes the JSON). Objects are strict: an unknown key is refused by name.
local optional(key, value) = if value == null then {} else { [key]: value };

{
  // ---- scalars
  string(description=null):: { type: 'string' } + optional('description', description),
  nonEmptyString(description=null):: $.string(description) + { minLength: 1 },
  boolean(description=null):: { type: 'boolean' } + optional('description', description),
  integer(minimum=null, maximum=null, description=null)::
    { type: 'integer' } + optional('minimum', minimum) + optional('maximum', maximum) + optional('description', description),
  number(minimum=null, maximum=null, description=null)::
    { type: 'number' } + optional('minimum', minimum) + optional('maximum', maximum) + optional('description', description),
  enum(values, description=null):: { enum: values } + optional('description', description),
  pattern(regex, description=null):: { type: 'string', pattern: regex } + optional('description', description),

  // Kubernetes names: a DNS-1123 subdomain, or empty where empty means "not set".
  k8sName:: $.pattern('^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$'),
  optionalK8sName:: $.pattern('^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)?$'),
  // A CPU or memory quantity: 500m, 1, 0.5, 256Mi, 2Gi.
  quantity:: { type: ['string', 'number'], pattern: '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$' },
  storageSize:: $.pattern('^[0-9]+(\\.[0-9]+)?(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)$'),
  // A Prometheus duration: 30s, 5m, 15d.
  duration:: $.pattern('^[0-9]+(ms|s|m|h|d|w|y)$'),
  url:: $.pattern('^https?://[^\\s/]+(/\\S*)?$'),
  optionalUrl:: $.pattern('^(https?://[^\\s/]+(/\\S*)?)?$'),
  port:: $.integer(1, 65535),

  // ---- structures
  object(properties, required=[], description=null)::
    { type: 'object', additionalProperties: false, properties: properties }
    + (if required == [] then {} else { required: required })
    + optional('description', description),
  // String to string maps: labels, annotations, nodeSelector.
  stringMap:: { type: 'object', additionalProperties: { type: 'string' } },
  // Kubernetes structures (affinity, tolerations, peers) that the API server validates in full.
  kubernetesObject:: { type: 'object' },
  array(items, minItems=null, uniqueItems=false)::
    { type: 'array', items: items } + optional('minItems', minItems) + (if uniqueItems then { uniqueItems: true } else {}),

  // ---- the keys every chart shares
  globalProperties:: {
    imageRegistry: $.string('Overrides the registry of every image (air-gapped clusters).'),
    imagePullSecrets: $.imagePullSecrets,
    storageClass: $.string('StorageClass of every volume that sets none; "-" disables dynamic provisioning.'),
    s3: $.object({
      endpoint: $.optionalUrl + { description: 'S3 endpoint; default http://<release>-minio:9000.' },
      existingSecret: $.optionalK8sName + { description: 'Secret with keys root-user and root-password; default <release>-minio.' },
    }),
  },
  // Subcharts accept global keys they do not know: the umbrella shares `global` with every subchart.
  global:: { type: 'object', properties: $.globalProperties },

  image:: $.object({
    registry: $.string(),
    repository: $.nonEmptyString(),
    tag: $.string('Defaults to the chart appVersion.'),
    pullPolicy: $.enum(['Always', 'IfNotPresent', 'Never']),
  }, required=['repository']),

  imagePullSecrets:: $.array({
    type: ['string', 'object'],
    pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
    properties: { name: $.k8sName },
    required: ['name'],
    additionalProperties: false,
  }),

  resources:: local list = $.object({ cpu: $.quantity, memory: $.quantity, 'ephemeral-storage': $.quantity });
    $.object({ requests: list, limits: list }),

  probe:: $.object({
    enabled: $.boolean(),
    initialDelaySeconds: $.integer(0, 3600),
    periodSeconds: $.integer(1, 3600),
    timeoutSeconds: $.integer(1, 600),
    failureThreshold: $.integer(1, 1000),
  }),

  podSecurityContext:: $.object({
    runAsUser: $.integer(1, description='Must not be 0: pods run as non-root.'),
    runAsGroup: $.integer(1),
    fsGroup: $.integer(1),
    fsGroupChangePolicy: $.enum(['OnRootMismatch', 'Always']),
    supplementalGroups: $.array($.integer(0)),
  }),

  serviceAccount:: $.object({
    create: $.boolean(),
    name: $.optionalK8sName,
    annotations: $.stringMap,
  }),

  service:: $.object({
    type: $.enum(['ClusterIP', 'NodePort', 'LoadBalancer']),
    annotations: $.stringMap,
  }),

  persistence:: $.object({
    enabled: $.boolean(),
    existingClaim: $.optionalK8sName,
    storageClass: $.string(),
    accessModes: $.array($.enum(['ReadWriteOnce', 'ReadWriteOncePod', 'ReadWriteMany', 'ReadOnlyMany']), minItems=1, uniqueItems=true),
    size: $.storageSize,
  }),

  // A StatefulSet's volumeClaimTemplates: one claim per pod, so no existingClaim.
  statefulPersistence:: $.object({
    enabled: $.boolean(),
    storageClass: $.string(),
    accessModes: $.persistence.properties.accessModes,
    size: $.storageSize,
  }),

  database:: $.object({
    existingSecret: $.optionalK8sName + { description: 'Secret with key `uri`, an SQLAlchemy URL; empty: SQLite on the volume.' },
  }),

  pdb:: $.object({
    enabled: $.boolean(),
    minAvailable: { type: ['integer', 'string'], minimum: 1, pattern: '^([0-9]{1,2}%|100%)?$' },
    maxUnavailable: { type: ['integer', 'string'], minimum: 1, pattern: '^([0-9]{1,2}%|100%)$' },
  }),

  autoscaling:: $.object({
    enabled: $.boolean(),
    minReplicas: $.integer(1, 100),
    maxReplicas: $.integer(1, 100),
    targetCPUUtilizationPercentage: $.integer(1, 100),
  }),

  networkPolicy:: $.object({
    enabled: $.boolean(),
    extraIngressFrom: $.array($.kubernetesObject),
  }),

  envVar:: $.object({
    name: $.pattern('^[A-Za-z_][A-Za-z0-9_]*$'),
    value: $.string(),
    valueFrom: $.kubernetesObject,
  }, required=['name']),

  // The pod-level keys every workload has (image, security, scheduling, probes, policy objects).
  workload:: {
    image: $.image,
    imagePullSecrets: $.imagePullSecrets,
    podAnnotations: $.stringMap,
    podLabels: $.stringMap,
    podSecurityContext: $.podSecurityContext,
    resources: $.resources,
    livenessProbe: $.probe,
    readinessProbe: $.probe,
    serviceAccount: $.serviceAccount,
    service: $.service,
    pdb: $.pdb,
    networkPolicy: $.networkPolicy,
    extraEnv: $.array($.envVar),
    nodeSelector: $.stringMap,
    tolerations: $.array($.kubernetesObject),
    affinity: $.kubernetesObject,
    topologySpreadConstraints: $.array($.kubernetesObject),
    priorityClassName: $.string(),
  },

  // A chart's whole schema. Helm adds a key for each dependency (`mlplatform-lib`, which has no
  // values), and `global` and `enabled` to a subchart's values.
  chart(title, properties, subchart=true):: {
    '$schema': 'http://json-schema.org/draft-07/schema#',
    title: title,
    type: 'object',
    additionalProperties: false,
    properties: { 'mlplatform-lib': { type: 'object' } }
                + (if subchart then { global: $.global, enabled: $.boolean('Installs the component (umbrella chart).') } else {})
                + properties,
  },
}
