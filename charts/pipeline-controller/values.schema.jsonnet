local s = import '../mlplatform-lib/schema.libsonnet';

s.chart('pipeline-controller', s.workload {
  artifacts: s.object({ bucket: s.pattern('^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', 'An S3 bucket name.') }),
  tasks: s.object({
    image: s.string('Image of the task Jobs; empty means the controller image.'),
    serviceAccount: s.object({ create: s.boolean(), name: s.optionalK8sName }),
  }),
  database: s.database,
  persistence: s.persistence,
  rbac: s.object({ create: s.boolean() }),
  auth: s.object({
    mode: s.enum(['none', 'kubernetes'], 'kubernetes: TokenReview + SubjectAccessReview per request; none: open.'),
  }),
})
