"""A policy check: every model the release registers carries a `team` tag."""

from mlplatform.checks.base import Check, CheckContext, CheckResult


class TeamPolicyCheck(Check):
    name = "team-policy"
    description = "every registered model names its owning team"

    def skip_reason(self, context: CheckContext):
        return None if context.config.hook("register").get("models") else "the values register no model"

    def run(self, context: CheckContext) -> list[CheckResult]:
        results = []
        for model in context.config.hook("register").get("models") or []:
            if (model.get("tags") or {}).get("team"):
                results.append(self.passed(f"model {model['name']}", f"team {model['tags']['team']}"))
            else:
                results.append(self.failed(f"model {model['name']}",
                                           "no team tag: add hooks.register.models[].tags.team"))
        return results
