"""After `make setup`, the venv's bin directory alone gives helm 3, helm 4 and the `helm mlp` plugin on both,
without taking over the user's own helm homes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.plugins.test_helm_plugin import PLUGIN, SUBCOMMANDS, described_subcommands

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
WRAPPERS = ROOT / "ci" / "scripts" / "install-helm-wrappers.sh"
HELMS = ["helm", "helm4"]
VERSIONS = {"helm": "v3.17.", "helm4": "v4."}


def activated(home: Path, *command: str) -> subprocess.CompletedProcess:
    """`command` as a user runs it after `source .venv/bin/activate`, with nothing else of ours on PATH."""
    if not (VENV_BIN / "helm").exists():
        pytest.fail("no .venv/bin/helm: run `make setup` (or `make setup-plugin`)")
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(home)}
    return subprocess.run(list(command), env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("helm", HELMS)
def test_helm_on_the_venv_path_is_the_project_helm(tmp_path, helm):
    result = activated(tmp_path, helm, "version", "--short")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(VERSIONS[helm])


@pytest.mark.parametrize("helm", HELMS)
def test_helm_mlp_on_the_venv_path_lists_the_subcommands(tmp_path, helm):
    result = activated(tmp_path, helm, "mlp", "--help")
    assert result.returncode == 0, result.stderr
    assert list(described_subcommands(result.stdout)) == list(SUBCOMMANDS), result.stdout


@pytest.mark.parametrize("helm", HELMS)
def test_the_user_keeps_their_helm_homes_and_plugins(tmp_path, helm):
    """Repositories and data stay in the user's home; a plugin they install lands there and runs beside mlp,
    and their own install of mlp takes precedence (Helm 4 refuses two plugins of one name)."""
    data_home = activated(tmp_path, helm, "env", "HELM_DATA_HOME").stdout.strip()
    assert data_home == str(tmp_path / ".local" / "share" / "helm")
    assert activated(tmp_path, helm, "env", "HELM_REPOSITORY_CONFIG").stdout.startswith(str(tmp_path))

    theirs = tmp_path / "their-plugin"
    (theirs / "bin").mkdir(parents=True)
    (theirs / "plugin.yaml").write_text('name: theirs\nversion: 1.0.0\nusage: "theirs"\ndescription: "theirs"\n'
                                        'command: "$HELM_PLUGIN_DIR/bin/run"\n')
    (theirs / "bin" / "run").write_text("#!/bin/sh\necho their plugin ran\n")
    (theirs / "bin" / "run").chmod(0o755)
    assert activated(tmp_path, helm, "plugin", "install", str(theirs)).returncode == 0
    assert (Path(data_home) / "plugins" / "their-plugin").exists()
    assert activated(tmp_path, helm, "theirs").stdout == "their plugin ran\n"
    assert activated(tmp_path, helm, "mlp", "--help").returncode == 0

    installed = activated(tmp_path, helm, "plugin", "install", str(PLUGIN))
    assert installed.returncode == 0, installed.stderr
    listing = activated(tmp_path, helm, "plugin", "list")
    assert listing.returncode == 0 and "error" not in listing.stderr.lower(), listing.stderr
    assert activated(tmp_path, helm, "mlp", "--help").returncode == 0


def test_writing_the_wrappers_again_changes_nothing(tmp_path):
    """`make setup` runs again cleanly: the wrappers come out the same."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    written = []
    for _ in range(2):
        result = subprocess.run(["bash", str(WRAPPERS), str(ROOT / ".tools"), str(bin_dir)],
                                capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 0, result.stderr
        written.append({path.name: path.read_text() for path in sorted(bin_dir.iterdir())})
    assert set(written[0]) == {"helm", "helm4"}
    assert written[0] == written[1]
