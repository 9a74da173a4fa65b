// Model serving: request rate, success rate and latency of each model-server track (stable, canary).
// Rendered to files/rules/serving.yaml by `mlp values render`; the chart and local mode load it.
//
// What MLServer 1.7 exposes on its metrics port, and so what these rules can break down:
// - model_infer_request_success_total, model_infer_request_failure_total{model, version}: inferences
//   (REST and gRPC) that a model answered or raised on; model_infer_request_duration (a summary: _count
//   counts every inference, failures included, and _sum their time) -> per model and track.
// - rest_server_requests_total, rest_server_request_duration_seconds_bucket{path, status_code}: every
//   REST request with its status and a latency histogram. `path` is the route template
//   (/v2/models/{model_name}/infer): no model name, so the REST rates and the latency percentiles are
//   per track (every model the track serves).
// Every rule keeps `namespace` (a cluster), `component` and `track` (contracts §1); the rates use a 2m
// window: 4 scrapes at the chart's 30s scrape interval, so rate() always has samples (and 120 at local
// mode's 1s). The canary analysis (mlplatform/canary/analysis.py) queries the same series over its own
// interval instead.
local window = '2m';
local model = 'namespace, component, track, model';
local trackLabels = 'namespace, component, track';
local inferPaths = 'component="model-server", path=~"/v2/models/.+/infer"';

local rate(metric, selector, by) = 'sum by (%s) (rate(%s{%s}[%s]))' % [by, metric, selector, window];
local record(name, expr) = { record: 'mlplatform:%s' % name, expr: expr };
// 1 - errors / total, where no error series yet means 0 errors, and no traffic means no sample (not NaN).
local successRatio(errors, total) = '1 - ((%s) or (%s * 0)) / (%s > 0)' % [errors, total, total];
local quantile(q, by) =
  'histogram_quantile(%s, sum by (%s, le) (rate(rest_server_request_duration_seconds_bucket{%s}[%s])))'
  % [q, by, inferPaths, window];

local inferences = rate('model_infer_request_duration_count', 'component="model-server"', model);
local failures = rate('model_infer_request_failure_total', 'component="model-server"', model);
local requests = rate('rest_server_requests_total', inferPaths, trackLabels);
local errors = rate('rest_server_requests_total', inferPaths + ', status_code=~"5.."', trackLabels);

{
  groups: [
    {
      name: 'mlplatform.serving.models',
      rules: [
        record('model_inferences:rate2m', inferences),
        record('model_inference_failures:rate2m', failures),
        record('model_inference_success:ratio_rate2m', successRatio(failures, inferences)),
        record('model_inference_latency_seconds:mean_rate2m',
               '%s / (%s > 0)' % [rate('model_infer_request_duration_sum', 'component="model-server"', model), inferences]),
      ],
    },
    {
      name: 'mlplatform.serving.tracks',
      rules: [
        record('model_server_requests:rate2m', requests),
        record('model_server_errors:rate2m', errors),
        record('model_server_success:ratio_rate2m', successRatio(errors, requests)),
        record('model_server_latency_seconds:p50_rate2m', quantile('0.5', trackLabels)),
        record('model_server_latency_seconds:p90_rate2m', quantile('0.9', trackLabels)),
        record('model_server_latency_seconds:p99_rate2m', quantile('0.99', trackLabels)),
      ],
    },
  ],
}
