"""The rollout's pure parts: steps, the canary's model URI, and the values of a step, a promotion, an abort."""

from __future__ import annotations

import copy

import pytest

from mlplatform.canary.plan import RolloutPlan, abort_values, model_uri, parse_steps, promote_values
from mlplatform.errors import ConfigError

VALUES = {
    "modelServer": {
        "models": [{"name": "fraud", "uri": "models:/fraud/1", "implementation": "mlserver_sklearn.SKLearnModel"},
                   {"name": "churn", "uri": "s3://models/churn/2"}],
        "canary": {"enabled": False, "weight": 0, "models": [], "analysis": {"intervalSeconds": 2}},
        "router": {"type": "replicas"},
    },
    "hooks": {"register": {"enabled": False}},
}


def test_steps_parse_in_order():
    assert parse_steps("10,25,50,100") == (10, 25, 50, 100)
    assert parse_steps(" 25, 50 ,100") == (25, 50, 100)
    assert parse_steps("40") == (40,)


@pytest.mark.parametrize(("text", "message"), [
    ("10,5", "steps must increase (5 follows 10)"),
    ("10,10,100", "steps must increase"),
    ("0,50", "step 0 is outside 1-100"),
    ("50,150", "step 150 is outside 1-100"),
    ("10,,100", "comma-separated"),
    ("ten,100", "whole percent"),
    ("", "comma-separated"),
])
def test_bad_steps_are_refused_with_the_reason(text, message):
    with pytest.raises(ConfigError, match=None) as caught:
        parse_steps(text)
    assert message in str(caught.value)
    assert caught.value.exit_code == 2


def test_the_version_is_a_uri_or_a_version_number_of_the_model():
    assert model_uri("3", "fraud") == "models:/fraud/3"
    for uri in ("models:/fraud/3", "models:/fraud@challenger", "s3://models/fraud/3"):
        assert model_uri(uri, "fraud") == uri
    with pytest.raises(ConfigError, match="needs the model"):
        model_uri("3", None)
    with pytest.raises(ConfigError, match="expected a model URI"):
        model_uri("fraud-three", "fraud")


def test_a_step_puts_the_new_model_on_the_canary_at_its_weight():
    before = copy.deepcopy(VALUES)
    plan = RolloutPlan.build(VALUES, version="3", model="fraud", steps=(25, 50, 100))
    step = plan.step_values(25)
    canary = step["modelServer"]["canary"]
    assert canary["enabled"] is True and canary["weight"] == 25
    assert canary["models"] == [
        {"name": "fraud", "uri": "models:/fraud/3", "implementation": "mlserver_sklearn.SKLearnModel"},
        {"name": "churn", "uri": "s3://models/churn/2"}]
    assert canary["analysis"] == {"intervalSeconds": 2}            # the rest of the canary section stays
    assert step["modelServer"]["models"] == VALUES["modelServer"]["models"]   # stable untouched
    assert step["hooks"] == VALUES["hooks"] and step["modelServer"]["router"] == {"type": "replicas"}
    assert plan.step_values(50)["modelServer"]["canary"]["weight"] == 50
    assert VALUES == before                                          # the input is never edited


def test_promotion_makes_the_canary_models_stable_and_turns_the_canary_off():
    plan = RolloutPlan.build(VALUES, version="models:/fraud@challenger", model="fraud", steps=(50, 100))
    promoted = plan.promote_values()
    assert [m["uri"] for m in promoted["modelServer"]["models"]] == ["models:/fraud@challenger", "s3://models/churn/2"]
    assert promoted["modelServer"]["canary"] == {"enabled": False, "weight": 0, "models": [],
                                                 "analysis": {"intervalSeconds": 2}}
    assert plan.promotes and not RolloutPlan.build(VALUES, "3", "fraud", (10, 50)).promotes


def test_abort_sends_everything_back_to_stable_and_keeps_it():
    plan = RolloutPlan.build(VALUES, version="3", model="fraud", steps=(25, 100))
    aborted = abort_values(plan.step_values(25))
    assert aborted["modelServer"]["canary"]["enabled"] is False
    assert aborted["modelServer"]["canary"]["weight"] == 0 and aborted["modelServer"]["canary"]["models"] == []
    assert aborted["modelServer"]["models"] == VALUES["modelServer"]["models"]
    assert plan.abort_values() == aborted


def test_the_model_defaults_to_the_only_stable_model():
    single = {"modelServer": {"models": [{"name": "iris", "uri": "s3://models/iris/1"}]}}
    plan = RolloutPlan.build(single, version="s3://models/iris/2", model=None, steps=(100,))
    assert plan.model == "iris" and plan.step_values(100)["modelServer"]["canary"]["models"] == [
        {"name": "iris", "uri": "s3://models/iris/2"}]
    with pytest.raises(ConfigError, match="stable track serves: fraud, churn"):
        RolloutPlan.build(VALUES, version="3", model=None, steps=(100,))


def test_a_new_model_name_is_added_to_the_canary():
    plan = RolloutPlan.build(VALUES, version="s3://models/spam/1", model="spam", steps=(100,))
    assert [m["name"] for m in plan.canary_models] == ["fraud", "churn", "spam"]


def test_there_is_nothing_to_promote_without_a_canary():
    with pytest.raises(ConfigError, match="no canary to promote"):
        promote_values(VALUES)


def test_the_stable_models_come_from_what_runs_and_the_runtime_may_change():
    user_values = {"hooks": {"register": {"enabled": False}}}            # the chart's defaults serve fraud
    plan = RolloutPlan.build(user_values, version="4", model="fraud", steps=(50, 100), current=VALUES,
                             implementation="custom.Runtime")
    step = plan.step_values(50)
    assert "models" not in step["modelServer"]                           # chart defaults are not frozen in
    assert step["modelServer"]["canary"]["models"][0] == {"name": "fraud", "uri": "models:/fraud/4",
                                                          "implementation": "custom.Runtime"}
    assert step["hooks"] == user_values["hooks"]
