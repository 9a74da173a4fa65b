"""Bad input: a 400 that lists every problem, and nothing stored."""

import pytest
import requests
import yaml

from tests.tuning.helpers import katib_yaml, load

GOOD = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  namespace: kubeflow
  name: bad-input
spec:
  objective:
    type: maximize
    goal: 0.99
    objectiveMetricName: Validation-accuracy
    additionalMetricNames:
      - Train-accuracy
  algorithm:
    algorithmName: random
  parallelTrialCount: 3
  maxTrialCount: 12
  maxFailedTrialCount: 3
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.01"
        max: "0.03"
    - name: num-layers
      parameterType: int
      feasibleSpace:
        min: "2"
        max: "5"
    - name: optimizer
      parameterType: categorical
      feasibleSpace:
        list:
          - sgd
          - adam
          - ftrl
  trialTemplate:
    primaryContainerName: training-container
    trialParameters:
      - name: learningRate
        description: Learning rate for the training model
        reference: lr
      - name: numberLayers
        description: Number of training model layers
        reference: num-layers
      - name: optimizer
        description: Training model optimizer (sdg, adam or ftrl)
        reference: optimizer
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: training-container
                image: docker.io/kubeflowkatib/mxnet-mnist:v0.15.0
                command:
                  - "{{python}}"
                  - "{{objectives}}/mixed.py"
                  - "--lr=${trialParameters.learningRate}"
                  - "--num-layers=${trialParameters.numberLayers}"
                  - "--optimizer=${trialParameters.optimizer}"
            restartPolicy: Never
"""


def good() -> dict:
    return load(katib_yaml(GOOD))


def container(manifest: dict) -> dict:
    return manifest["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]


def unknown_algorithm(m):
    m["spec"]["algorithm"]["algorithmName"] = "hyperopt"


def pbt(m):
    m["spec"]["algorithm"]["algorithmName"] = "pbt"


def hyperband_without_resource(m):
    m["spec"]["algorithm"]["algorithmName"] = "hyperband"


def hyperband_with_early_stopping(m):
    m["spec"]["algorithm"] = {
        "algorithmName": "hyperband",
        "algorithmSettings": [{"name": "resource_name", "value": "num-layers"}, {"name": "r_l", "value": "5"}],
    }
    m["spec"]["earlyStopping"] = {"algorithmName": "medianstop"}


def nas(m):
    """Katib's darts example: no parameters, a nasConfig."""
    del m["spec"]["parameters"]
    m["spec"]["algorithm"]["algorithmName"] = "darts"
    m["spec"]["nasConfig"] = {"graphConfig": {"numLayers": 3}, "operations": []}


def bogus_resume_policy(m):
    m["spec"]["resumePolicy"] = "Bogus"


def unknown_field(m):
    m["spec"]["maxTrialCont"] = 3  # a typo Katib's CRD refuses under strict field validation


def unknown_nested_field(m):
    m["spec"]["parameters"][0]["feasibleSpace"]["mni"] = "0.01"


def unsupported_distribution(m):
    m["spec"]["parameters"][0]["feasibleSpace"]["distribution"] = "normal"


def min_above_max(m):
    m["spec"]["parameters"][0]["feasibleSpace"] = {"min": "0.5", "max": "0.1"}


def empty_grid(m):
    m["spec"]["algorithm"]["algorithmName"] = "grid"
    m["spec"]["parameters"][2]["feasibleSpace"]["list"] = []


def grid_double_without_step(m):
    m["spec"]["algorithm"]["algorithmName"] = "grid"


def missing_objective_metric(m):
    del m["spec"]["objective"]["objectiveMetricName"]


def bad_regex(m):
    m["spec"]["metricsCollectorSpec"] = {
        "collector": {"kind": "StdOut"},
        "source": {"filter": {"metricsFormat": ["([\\w|-]+=(("]}},
    }


def unknown_trial_parameter_in_template(m):
    container(m)["command"].append("--momentum=${trialParameters.momentum}")


def reference_to_unknown_parameter(m):
    m["spec"]["trialTemplate"]["trialParameters"][0]["reference"] = "learning_rate"


def unknown_algorithm_setting(m):
    m["spec"]["algorithm"] = {
        "algorithmName": "tpe",
        "algorithmSettings": [{"name": "n_startup", "value": "3"}],
    }


def unknown_primary_container(m):
    m["spec"]["trialTemplate"]["primaryContainerName"] = "trainer"


def file_collector_without_path(m):
    m["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "File"}}


def unsupported_collector(m):
    m["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "TensorFlowEvent"}}


def more_parallel_than_max(m):
    m["spec"]["parallelTrialCount"] = 20


def bad_name(m):
    m["metadata"]["name"] = "Bad_Name"


def unknown_parameter_type(m):
    m["spec"]["parameters"][1]["parameterType"] = "integer"


def non_numeric_bound(m):
    m["spec"]["parameters"][1]["feasibleSpace"]["max"] = "five"


def unsupported_trial_kind(m):
    m["spec"]["trialTemplate"]["trialSpec"]["kind"] = "XGBoostJob"
    m["spec"]["trialTemplate"]["trialSpec"]["apiVersion"] = "kubeflow.org/v1"


def unknown_early_stopping(m):
    m["spec"]["earlyStopping"] = {"algorithmName": "meanstop"}


CASES = [
    (unknown_algorithm, "unknown algorithm 'hyperopt'"),
    (pbt, "pbt (population based training) is not supported"),
    (hyperband_without_resource, "hyperband needs resource_name"),
    (hyperband_with_early_stopping, "hyperband stops trials itself"),
    (nas, "NAS is not supported"),
    (bogus_resume_policy, "'Bogus' is an invalid ResumePolicyType"),
    (unsupported_distribution, "distribution 'normal' is not supported"),
    (unknown_field, "spec.maxTrialCont: unknown field"),
    (unknown_nested_field, "spec.parameters[0].feasibleSpace.mni: unknown field"),
    (min_above_max, "min 0.5 is greater than max 0.1"),
    (empty_grid, "feasibleSpace.list must list at least one value"),
    (grid_double_without_step, "the grid of a double needs feasibleSpace.step"),
    (missing_objective_metric, "objectiveMetricName: missing"),
    (bad_regex, "is not a valid regular expression"),
    (unknown_trial_parameter_in_template, "${trialParameters.momentum} refers to an unknown trial parameter"),
    (reference_to_unknown_parameter, "reference 'learning_rate' is not a parameter in spec.parameters"),
    (unknown_algorithm_setting, "tpe has no setting 'n_startup'"),
    (unknown_primary_container, "primaryContainerName: 'trainer' names none of the Job's containers"),
    (file_collector_without_path, "the File collector needs the file's path"),
    (unsupported_collector, "'TensorFlowEvent' is not supported"),
    (more_parallel_than_max, "parallelTrialCount: 20 is greater than maxTrialCount 12"),
    (bad_name, "metadata.name: 'Bad_Name' must be lowercase"),
    (unknown_parameter_type, "parameterType 'integer' is not one of"),
    (non_numeric_bound, "feasibleSpace.max 'five' is not an integer"),
    (unsupported_trial_kind, "kubeflow.org/v1/XGBoostJob is not supported"),
    (unknown_early_stopping, "unknown early stopping algorithm 'meanstop'"),
]


def submit(tuning, manifest: dict) -> requests.Response:
    return tuning.submit(yaml.safe_dump(manifest))


@pytest.mark.parametrize("mutate, problem", CASES, ids=[case[0].__name__ for case in CASES])
def test_each_problem_is_named(tuning, mutate, problem):
    manifest = good()
    mutate(manifest)
    response = submit(tuning, manifest)
    assert response.status_code == 400, response.text
    assert any(problem in line for line in response.json()["problems"]), response.json()
    name = manifest["metadata"]["name"]
    assert requests.get(f"{tuning.url}/api/v1/experiments/{name}", timeout=10).status_code == 404


def test_every_problem_is_listed_at_once(tuning):
    manifest = good()
    for mutate in (
        unknown_algorithm,
        min_above_max,
        missing_objective_metric,
        bad_regex,
        unknown_trial_parameter_in_template,
        reference_to_unknown_parameter,
        more_parallel_than_max,
    ):
        mutate(manifest)
    response = submit(tuning, manifest)
    assert response.status_code == 400
    problems = response.json()["problems"]
    for expected in (
        "unknown algorithm",
        "greater than max",
        "objectiveMetricName",
        "regular expression",
        "unknown trial parameter",
        "is not a parameter",
        "greater than maxTrialCount",
    ):
        assert any(expected in problem for problem in problems), (expected, problems)


def test_nas_gets_one_problem_not_a_missing_parameter_list(tuning):
    manifest = good()
    nas(manifest)
    problems = submit(tuning, manifest).json()["problems"]
    assert len(problems) == 1 and problems[0].startswith("spec.nasConfig: NAS is not supported"), problems


def test_a_refused_parameter_is_not_reported_again_as_an_unknown_reference(tuning):
    manifest = good()
    unsupported_distribution(manifest)
    problems = submit(tuning, manifest).json()["problems"]
    assert len(problems) == 1 and "distribution 'normal'" in problems[0], problems


def test_the_good_manifest_is_accepted(tuning):
    """The cases above fail for their mutation alone."""
    manifest = good()
    manifest["metadata"]["name"] = "good-input"
    manifest["spec"]["maxTrialCount"] = 3
    assert submit(tuning, manifest).status_code == 201


@pytest.mark.parametrize(
    "body, problem",
    [
        ("spec: [unclosed", "neither JSON nor YAML"),
        ("- a\n- list", "must be an Experiment object"),
        (
            "apiVersion: kubeflow.org/v1beta1\nkind: Trial\nmetadata: {name: x}\n",
            "must be kubeflow.org/v1beta1/Experiment",
        ),
        ("---\napiVersion: v1\n---\napiVersion: v1\n", "exactly one Experiment"),
    ],
)
def test_unreadable_bodies(tuning, body, problem):
    response = tuning.submit(body)
    assert response.status_code == 400 and problem in response.json()["problems"][0], response.text


def test_pipeline_trials_need_the_pipeline_controller(tuning):
    manifest = good()
    manifest["metadata"]["name"] = "needs-pipelines"
    manifest["spec"]["trialTemplate"] = {
        "trialParameters": [{"name": "learningRate", "reference": "lr"}],
        "trialSpec": {
            "apiVersion": "pipelines.mlplatform.io/v1alpha1",
            "kind": "PipelineRun",
            "spec": {"pipelineName": "train", "parameters": {"lr": "${trialParameters.learningRate}"}},
        },
    }
    response = submit(tuning, manifest)
    assert response.status_code == 400 and "--pipelines-url" in response.json()["problems"][0]


def test_bayesian_optimization_without_torch_names_the_extra(start_tuning, tmp_path):
    """A service whose Python cannot import torch refuses bayesianoptimization and says what to install."""
    shadow = tmp_path / "no-torch"
    (shadow / "torch").mkdir(parents=True)
    (shadow / "torch" / "__init__.py").write_text(
        "raise ImportError('No module named torch (hidden by the test)')\n"
    )
    service = start_tuning(env={"PYTHONPATH": str(shadow)})
    manifest = good()
    manifest["spec"]["algorithm"] = {"algorithmName": "bayesianoptimization"}
    response = submit(service, manifest)
    assert response.status_code == 400
    assert "pip install 'mlplatform[bayesian]'" in response.json()["problems"][0]
    manifest["spec"]["algorithm"] = {"algorithmName": "tpe"}
    assert submit(service, manifest).status_code == 201  # everything else still works
