local s = import '../mlplatform-lib/schema.libsonnet';

s.chart('tuning-service', s.workload {
  pipelines: s.object({ url: s.optionalUrl }),
  tasks: s.object({
    image: s.string('Image of the trial Jobs; empty means the service image.'),
    serviceAccount: s.object({ create: s.boolean(), name: s.optionalK8sName }),
  }),
  database: s.database,
  persistence: s.persistence,
  rbac: s.object({ create: s.boolean() }),
  auth: s.object({
    mode: s.enum(['none', 'kubernetes'], 'kubernetes: TokenReview + SubjectAccessReview per request; none: open.'),
  }),
  controller: s.object({
    enabled: s.boolean('Act as the controller of kubeflow.org Experiments.'),
    namespaces: s.array(s.k8sName, uniqueItems=true),
    allNamespaces: s.boolean('Every namespace, through a ClusterRole.'),
    trainingJobs: s.boolean('Trials may be kubeflow.org/v1 PyTorchJobs and TFJobs (needs a training operator).'),
  }),
})
