// Platform health: every scraped component is up, and Prometheus itself evaluates its rules.
// Rendered to files/rules/platform.yaml by `mlp values render`; the chart and local mode load it.
local alert(name, expr, forDuration, severity, summary, description) = {
  alert: name,
  expr: expr,
  'for': forDuration,
  labels: { severity: severity },
  annotations: { summary: summary, description: description },
};

{
  groups: [
    {
      name: 'mlplatform.platform.records',
      rules: [
        { record: 'mlplatform:component_up:ratio', expr: 'avg by (component) (up{component!=""})' },
      ],
    },
    {
      name: 'mlplatform.platform.alerts',
      rules: [
        alert('MlplatformTargetDown', 'up{component!=""} == 0', '5m', 'warning',
              '{{ $labels.component }} target {{ $labels.instance }} is down',
              'Prometheus could not scrape {{ $labels.component }} at {{ $labels.instance }} for 5 minutes.'),
        alert('MlplatformComponentDown', 'mlplatform:component_up:ratio == 0', '5m', 'critical',
              'Every {{ $labels.component }} target is down',
              'No {{ $labels.component }} target answered a scrape for 5 minutes: the component is out of service.'),
        alert('MlplatformRuleEvaluationFailures', 'increase(prometheus_rule_evaluation_failures_total[10m]) > 0', '10m', 'warning',
              'Prometheus fails to evaluate rules',
              'Rule group {{ $labels.rule_group }} failed to evaluate in the last 10 minutes.'),
      ],
    },
  ],
}
