"""The chart suite's generated files and its rendering.

`generate` renders what is checked in from sources: values/*.yaml from values/src/*.jsonnet, the
Prometheus rules from charts/prometheus/rules/*.jsonnet, every chart's values.schema.json from its
values.schema.jsonnet, and the values tables of the chart READMEs (readme-generator-for-helm).
`charts` stages the charts with their dependencies built and renders them with helm 3 or helm 4.
`mlp values render` (cli) drives `generate`.
"""
