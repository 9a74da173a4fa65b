local s = import '../mlplatform-lib/schema.libsonnet';

// A subchart's values: its own schema checks them; here only `enabled`.
local component(name) = {
  type: 'object',
  description: 'The values of charts/%s.' % name,
  properties: { enabled: s.boolean() },
};

// What every hook Job has (contracts §6).
local job(deadline, properties={}) = s.object({
  enabled: s.boolean(),
  activeDeadlineSeconds: s.integer(30, deadline),
  backoffLimit: s.integer(0, 10),
  ttlSecondsAfterFinished: s.integer(0, 604800),
  resources: s.resources,
} + properties);

local tags = s.stringMap;
local bucket = s.pattern('^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', 'An S3 bucket name.');
local name = s.pattern('^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$');

local modelVersion = s.object({
  source: s.pattern('^(s3://|https?://|models:/)\\S+$', 'The artifact directory: s3://, https:// or models:/'),
  version: s.string('A version label; the version name where the backend has one.'),
  aliases: s.array(s.pattern('^[A-Za-z][A-Za-z0-9_-]{0,62}$'), uniqueItems=true),
  tags: tags,
}, required=['source']);

local registeredModel = s.object({
  name: name,
  description: s.string(),
  tags: tags,
  versions: s.array(modelVersion),
}, required=['name']);

local pipeline = s.object({
  name: name,
  version: s.nonEmptyString(),
  description: s.string(),
  source: s.pattern('^(s3|https?)://\\S+$', 'Compiled KFP IR at s3:// or https://'),
}, required=['name', 'source']);

// A Katib Experiment manifest, inline.
local experiment = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: s.enum(['kubeflow.org/v1beta1']),
    kind: s.enum(['Experiment']),
    metadata: { type: 'object', required: ['name'], properties: { name: s.k8sName } },
    spec: s.kubernetesObject,
  },
};

// A team's namespace (a Helm-native Kubeflow profile).
local dnsLabel = s.pattern('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', 'A DNS-1123 label.');
local profile = s.object({
  name: dnsLabel,
  users: s.array(s.nonEmptyString(), uniqueItems=true),
  groups: s.array(s.nonEmptyString(), uniqueItems=true),
  role: s.enum(['edit', 'view'], 'edit: create, update and delete runs, experiments and pipelines; view: get and list.'),
  quota: { type: 'object', description: 'ResourceQuota hard limits, e.g. {"requests.cpu": "8", "pods": "50"}.',
           additionalProperties: s.quantity },
}, required=['name']);

s.chart('mlplatform', subchart=false, properties={
  global: s.object(s.globalProperties),
  pipelineController: component('pipeline-controller'),
  tuningService: component('tuning-service'),
  modelServer: component('model-server'),
  modelRegistry: component('model-registry'),
  minio: component('minio'),
  prometheus: component('prometheus'),
  dashboard: component('dashboard'),
  trainingOperator: component('training-operator'),
  profiles: s.array(profile),
  hooks: s.object({
    image: s.image,
    podSecurityContext: s.podSecurityContext,
    preflight: job(3600, {
      clusterReadAccess: s.boolean(),
      minKubernetesVersion: s.pattern('^1\\.[0-9]{2}$', 'major.minor, e.g. "1.30"'),
    }),
    register: job(86400, {
      registry: s.pattern('^[a-z][a-z0-9_-]*$', 'An mlplatform.registries plugin name.'),
      buckets: s.array(bucket, uniqueItems=true),
      models: s.array(registeredModel),
      pipelines: s.array(pipeline),
      experiments: s.array(experiment),
    }),
    canaryAnalysis: job(86400),
    validate: job(7200, {
      smoke: s.object({ pipeline: s.boolean(), experiment: s.boolean() }),
    }),
  }),
})
