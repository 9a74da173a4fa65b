"""A pipeline's DAG as the run page draws it: the spec's tasks, nested, with each task's live state.

    {"nodes": [{"id": "train", "name": "train", "kind": "executor", "state": "RUNNING", "task_id": "...",
                "children": null}, {"id": "loop-2", "kind": "loop", "children": {"nodes": [...], "edges": [...]}}],
     "edges": [["prepare", "train"], ...]}

`id` is the task's path in the run (the controller's `path`: `outer/inner`, `loop/0/child`), so a node
finds its task. Nested pipelines, conditions and loops carry their own level in `children`; the page
shows them collapsed and expands them on a click. A loop's children are its iterations once they exist.
"""

from __future__ import annotations

import re

NOT_STARTED = "NOT_STARTED"


def pipeline_spec(spec: dict) -> dict:
    """The IR itself, also when it comes with a platform spec ({"pipeline_spec": ..., "platform_spec": ...})."""
    return spec.get("pipeline_spec", spec) if "root" not in spec else spec


def spec_graph(spec: dict, tasks: list[dict] | None = None) -> dict:
    """The graph of a pipeline spec; with a run's task_details, each node carries its task's state."""
    spec = pipeline_spec(spec)
    by_path = {task.get("path"): task for task in tasks or [] if task.get("path")}
    return _level(spec.get("root", {}).get("dag", {}).get("tasks", {}), spec.get("components", {}), "", by_path)


def _level(tasks: dict, components: dict, prefix: str, by_path: dict) -> dict:
    nodes = [_node(name, task, components, prefix, by_path) for name, task in tasks.items()]
    edges = [[prefix + before, prefix + name] for name, task in tasks.items()
             for before in task.get("dependentTasks", []) if before in tasks]
    return {"nodes": nodes, "edges": edges}


def _node(name: str, task: dict, components: dict, prefix: str, by_path: dict) -> dict:
    path = prefix + name
    kind = _kind(task, components)
    record = by_path.get(path) or {}
    node = {"id": path, "name": task.get("taskInfo", {}).get("name", name), "kind": kind,
            "state": record.get("state", NOT_STARTED), "task_id": record.get("task_id"), "children": None}
    inner = _component(task, components).get("dag", {}).get("tasks")
    if kind == "loop" and inner:
        node["children"] = _iterations(path, inner, components, by_path)
    elif inner:
        node["children"] = _level(inner, components, path + "/", by_path)
    return node


def _iterations(path: str, inner: dict, components: dict, by_path: dict) -> dict:
    """One group per iteration that exists in the run; before the run, the loop body once."""
    indexes = sorted({int(match.group(1)) for key in by_path
                      if (match := re.fullmatch(re.escape(path) + r"/(\d+)", key))})
    if not indexes:
        return _level(inner, components, path + "/*/", by_path)
    nodes = []
    for index in indexes:
        record = by_path[f"{path}/{index}"]
        nodes.append({"id": f"{path}/{index}", "name": f"iteration {index}", "kind": "iteration",
                      "state": record.get("state", NOT_STARTED), "task_id": record.get("task_id"),
                      "children": _level(inner, components, f"{path}/{index}/", by_path)})
    return {"nodes": nodes, "edges": []}


def _component(task: dict, components: dict) -> dict:
    return components.get(task.get("componentRef", {}).get("name", ""), {})


def _kind(task: dict, components: dict) -> str:
    if "parameterIterator" in task or "artifactIterator" in task:
        return "loop"
    if task.get("triggerPolicy", {}).get("condition"):
        return "condition"
    if "dag" in _component(task, components):
        return "dag"
    return "executor"


def count_states(graph: dict) -> dict[str, int]:
    """How many executor tasks are in each state, over every level."""
    counts: dict[str, int] = {}
    for node in _walk(graph):
        if node["kind"] == "executor":
            counts[node["state"]] = counts.get(node["state"], 0) + 1
    return counts


def _walk(graph: dict):
    for node in graph["nodes"]:
        yield node
        if node["children"]:
            yield from _walk(node["children"])
