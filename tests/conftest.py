"""Shared pytest setup. Fixture modules live in tests/support/ and are registered here."""

import inspect
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Project-local tools (helm, helm4, kubectl) first, as `make test` arranges.
os.environ.setdefault("MLP_TOOLS_DIR", str(ROOT / ".tools"))
os.environ["PATH"] = os.pathsep.join([str(ROOT / ".tools" / "bin"), str(ROOT / ".venv" / "bin"), os.environ["PATH"]])

pytest_plugins = [
    module
    for module in (
        "tests.support.kube_fixtures",
        "tests.support.local_fixtures",
        "tests.support.chart_fixtures",
    )
    if (ROOT / (module.replace(".", "/") + ".py")).exists()
]


# ---- pytest-xdist: which tests must share a worker (ci/scripts/pytest.sh runs `-n 2 --dist loadgroup`)
#
# Tests in one xdist_group run on one worker, one after another, never beside each other. An explicit
# `@pytest.mark.xdist_group(NAME)` wins; without one, a test gets a group here when it uses
#   - the session `local_platform` (and `iris_model_uri`): group "local-platform", so one worker starts it
#     (and its tests never run beside each other's apply()/reset());
#   - a module-scoped fixture of ours: its module's group, so the fixture starts once, not once per worker.
# Groups the test files set themselves: "default-ports-and-checkout" (fixed ports 8888/8585 of
# `mlp serve`, the checkout's own .mlplatform dir: tests/docs, tests/cli/test_serve_defaults.py),
# "canary-timing" (tests that judge latencies under real traffic: never two of them at once) and "demo"
# (the two whole demos, tests/demo and docs/canary.md's scenario: never both at once).
# tests/README.md has the rules for test authors.

LOCAL_PLATFORM_GROUP = "local-platform"
# The longest groups, handed out first under xdist (longest first).
FIRST_GROUPS = ("canary-timing", LOCAL_PLATFORM_GROUP, "demo", "default-ports-and-checkout")


def _auto_xdist_group(item) -> str | None:
    if "local_platform" in item.fixturenames:
        return LOCAL_PLATFORM_GROUP
    info = getattr(item, "_fixtureinfo", None)
    for definitions in (info.name2fixturedefs.values() if info else ()):
        definition = definitions[-1]
        if definition.scope == "module" and _ours(definition.func):
            return "module:" + _module(item)
    return None


@pytest.hookimpl(tryfirst=True)   # before xdist's own hook reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("xdist_group") is None and (group := _auto_xdist_group(item)):
            item.add_marker(pytest.mark.xdist_group(group))
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Under xdist (with --no-loadscope-reorder, as ci/scripts/pytest.sh runs it) work is handed out in
        # this order: the long groups first, then the modules with slow tests, then the rest, so that no long
        # test starts last and keeps one worker busy while the other has nothing left. A stable sort that
        # moves whole modules: a module's tests (and its module fixtures) stay together and in order.
        slow_modules = {_module(item) for item in items if item.get_closest_marker("slow")}

        def rank(item) -> int:
            group = item.get_closest_marker("xdist_group")
            if group and group.args and group.args[0] in FIRST_GROUPS:
                return FIRST_GROUPS.index(group.args[0])
            return len(FIRST_GROUPS) + (_module(item) not in slow_modules)

        items.sort(key=rank)


def _ours(function) -> bool:
    """Defined in a file under tests/ (its __module__ is not enough: a directory without __init__.py)."""
    try:
        return Path(inspect.getsourcefile(function)).resolve().is_relative_to(ROOT / "tests")
    except (TypeError, OSError):
        return False


def _module(item) -> str:
    return item.nodeid.split("::")[0]


class _XdistGroupIds:
    """xdist's loadgroup reads a test's group from its nodeid (`path::test@group`), which xdist 3.8 sets in
    `item._nodeid`; pytest 9.2 computes nodeids from `item._id`, so that is lost and every group is ignored.
    This puts the suffix back, the way xdist writes it, after xdist's own hook."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        if not config.getvalue("loadgroup"):
            return
        for item in items:
            names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                            for mark in item.iter_markers("xdist_group")})
            if not names or item.nodeid.endswith("@" + "_".join(names)):
                continue
            nodeid = f"{item.nodeid}@{'_'.join(names)}"
            if hasattr(item, "_id"):
                from _pytest.nodeid import NodeId

                item._id = NodeId.parse(nodeid)
            else:
                item._nodeid = nodeid


def pytest_configure(config):
    if worker := os.environ.get("PYTEST_XDIST_WORKER"):   # "gw0", "gw1", ...
        config.pluginmanager.register(_XdistGroupIds(), "mlp-xdist-group-ids")
        os.environ["MLP_PORT_SLICE"] = f"{worker.removeprefix('gw')}/{os.environ['PYTEST_XDIST_WORKER_COUNT']}"

