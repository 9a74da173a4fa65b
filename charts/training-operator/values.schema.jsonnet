local s = import '../mlplatform-lib/schema.libsonnet';

s.chart('training-operator', s.workload {
  database: s.database,
  persistence: s.persistence,
  rbac: s.object({ create: s.boolean() }),
  auth: s.object({
    mode: s.enum(['none', 'kubernetes'], 'kubernetes: TokenReview + SubjectAccessReview per request; none: open.'),
  }),
  controller: s.object({
    namespaces: s.array(s.k8sName, uniqueItems=true),
    allNamespaces: s.boolean('Every namespace, through a ClusterRole.'),
  }),
})
