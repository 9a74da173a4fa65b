#!/usr/bin/env python3
"""The release's version check and chart packaging; ci/scripts/release.sh runs it, the tests import it.

    release.py check TAG --image IMAGE             the versions agree, or each disagreement on a line
    release.py package TAG OUT_DIR --image IMAGE   check, then `helm package` every chart into OUT_DIR

A release tag vX.Y.Z ships every chart at version X.Y.Z with appVersion X.Y.Z, its chart dependencies at
X.Y.Z, the Python package X.Y.Z, and the platform image IMAGE at tag X.Y.Z: the image values that
name no tag default to the appVersion, so they must name IMAGE, and any that name a tag must name X.Y.Z.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import yaml

from mlplatform.values import charts

TAG = re.compile(r"v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)")


def image_values(values: object) -> Iterator[tuple[str, str]]:
    """(registry/repository, tag) of every image block (a mapping with `repository` and `tag`) in values."""
    if isinstance(values, dict):
        if "repository" in values and "tag" in values:
            name = "/".join(part for part in (values.get("registry"), values["repository"]) if part)
            yield name, str(values["tag"] or "")
        for value in values.values():
            yield from image_values(value)
    elif isinstance(values, list):
        for value in values:
            yield from image_values(value)


def image_problems(where: str, values: object, image: str, version: str) -> list[str]:
    problems = []
    for name, tag in image_values(values):
        if not tag and name != image:
            problems.append(f"{where}: image {name} defaults to the appVersion, but the release pushes {image}")
        elif tag and name == image and tag != version:
            problems.append(f"{where}: image {name}:{tag} does not match the tag ({version})")
    return problems


def annotation_problems(name: str, chart: dict, image: str, version: str) -> list[str]:
    listed = yaml.safe_load(chart.get("annotations", {}).get("artifacthub.io/images", "[]"))
    return [f"{name}/Chart.yaml: artifacthub.io/images lists {entry['image']}, which does not match the tag ({version})"
            for entry in listed if entry["image"].rsplit(":", 1)[0] == image and entry["image"] != f"{image}:{version}"]


def chart_problems(directory: Path, image: str, version: str) -> list[str]:
    chart = yaml.safe_load((directory / "Chart.yaml").read_text())
    name = f"charts/{directory.name}"
    problems = [f"{name}/Chart.yaml: {key} {chart.get(key)} does not match the tag ({version})"
                for key in ("version", "appVersion") if str(chart.get(key)) != version]
    problems += [f"{name}/Chart.yaml: dependency {dependency['name']} {dependency['version']} does not match the tag ({version})"
                 for dependency in chart.get("dependencies", [])
                 if dependency["repository"].startswith("file://") and str(dependency["version"]) != version]
    problems += annotation_problems(name, chart, image, version)
    values = directory / "values.yaml"
    if values.exists():
        problems += image_problems(f"{name}/values.yaml", yaml.safe_load(values.read_text()), image, version)
    return problems


def version_problems(tag: str, image: str, root: Path = ROOT) -> list[str]:
    """Every way the tag, chart versions, appVersions, image tags and the Python package disagree."""
    match = TAG.fullmatch(tag)
    if not match:
        return [f"tag {tag}: a release tag is v<chart version>, for example v0.2.0"]
    version = match[1]
    problems = [problem for directory in charts.chart_dirs(root / "charts").values()
                for problem in chart_problems(directory, image, version)]
    for path in sorted((root / "values").glob("*.yaml")):
        problems += image_problems(f"values/{path.name}", yaml.safe_load(path.read_text()), image, version)
    package = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    if package != version:
        problems.append(f"pyproject.toml: version {package} (the mlp the image holds) does not match the tag ({version})")
    return problems


def check(tag: str, image: str, root: Path = ROOT) -> str:
    """The release's version; SystemExit naming every disagreement when there is one."""
    problems = version_problems(tag, image, root)
    if problems:
        raise SystemExit("\n".join([f"release {tag} refused: the versions disagree", *problems]))
    return tag.removeprefix("v")


def package(tag: str, out: Path, helm: Path, image: str) -> list[Path]:
    """`helm package` every chart, dependencies built (charts.stage), into `out`, after the check."""
    version = check(tag, image)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        staged = charts.chart_dirs(charts.stage(Path(scratch) / "charts", helm))
        for directory in staged.values():
            subprocess.run([str(helm), "package", str(directory), "--destination", str(out)], check=True,
                           capture_output=True, text=True)
    return [out / f"{name}-{version}.tgz" for name in staged]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["check", "package"])
    parser.add_argument("tag", help="the release tag, v<chart version>")
    parser.add_argument("out", nargs="?", type=Path, help="package: the directory the .tgz files go to")
    parser.add_argument("--image", required=True, help="the platform image the release pushes, without its tag")
    parser.add_argument("--helm", type=Path, default=Path("helm"), help="package: the helm to package with")
    args = parser.parse_args()
    if args.command == "check":
        check(args.tag, args.image)
        print(f"release {args.tag}: charts, appVersions, image tags and the Python package agree")
        return 0
    if args.out is None:
        parser.error("package needs OUT_DIR")
    for path in package(args.tag, args.out, args.helm, args.image):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
