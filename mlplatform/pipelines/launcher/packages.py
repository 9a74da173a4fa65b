"""`packages_to_install` for the local runner: a per-task virtual environment layered over the task
interpreter, cached by the package set.

    python -m mlplatform.pipelines.launcher.packages --venv DIR [--index-url URL]... \
        [--trusted-host HOST]... --package SPEC... -- COMMAND...

Creates DIR once (under a file lock, so concurrent tasks with the same package set wait for one
install), then runs COMMAND. The environment sees the task interpreter's packages (kfp, ...) through a
.pth file; its own packages come first. When an index given with pip_index_urls cannot be reached,
pip runs against the configured index instead (pip.conf, PIP_* variables) and says so.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

_READY_MARKER = ".mlp-ready"
_INDEX_PROBE_SECONDS = 5


def venv_dir(root: Path, packages: list[str], index_urls: list[str]) -> Path:
    """Where the environment for this package set lives (one per set, shared by tasks and runs)."""
    key = "\n".join([sys.executable, *sorted(packages), "--", *index_urls])
    return root / hashlib.sha256(key.encode()).hexdigest()[:16]


def command(venv: Path, packages: list[str], index_urls: list[str], trusted_hosts: list[str]) -> list[str]:
    """The wrapper to put before a task's command."""
    wrapper = [sys.executable, "-m", "mlplatform.pipelines.launcher.packages", "--venv", str(venv)]
    for url in index_urls:
        wrapper += ["--index-url", url]
    for host in trusted_hosts:
        wrapper += ["--trusted-host", host]
    for package in packages:
        wrapper += ["--package", package]
    return [*wrapper, "--"]


def python_of(venv: Path) -> str:
    return str(venv / "bin" / "python")


def ensure(venv: Path, packages: list[str], index_urls: list[str], trusted_hosts: list[str]) -> None:
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / _READY_MARKER).exists():
            print(f"packages: reusing {venv} ({' '.join(packages)})", flush=True)
            return
        _create(venv)
        _install(venv, packages, index_urls, trusted_hosts)
        (venv / _READY_MARKER).write_text("\n".join(packages) + "\n")


def _create(venv: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", "--clear", str(venv)],
        check=True,
    )
    site = subprocess.run(
        [python_of(venv), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Layer over the task interpreter (itself maybe a venv, which --system-site-packages does not see).
    task_paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "_mlp_task_interpreter.pth").write_text("\n".join(sorted(task_paths)) + "\n")


def _install(venv: Path, packages: list[str], index_urls: list[str], trusted_hosts: list[str]) -> None:
    reachable = [url for url in index_urls if _reachable(url)]
    options: list[str] = []
    if reachable:
        options += ["--index-url", reachable[0]]
        for url in reachable[1:]:
            options += ["--extra-index-url", url]
        for host in trusted_hosts:
            options += ["--trusted-host", host]
    pip = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        python_of(venv),
        "install",
        "--quiet",
        "--no-warn-script-location",
        *options,
        *packages,
    ]
    print(f"packages: installing {' '.join(packages)} into {venv}", flush=True)
    result = subprocess.run(pip, check=False)
    if result.returncode != 0:
        raise SystemExit(f"packages: pip could not install {' '.join(packages)} (exit {result.returncode})")


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=_INDEX_PROBE_SECONDS):
            return True
    except Exception as error:  # noqa: BLE001 - any failure means: use the configured index
        print(
            f"packages: the package index {url} (pip_index_urls) is unreachable ({error}); "
            "installing from the configured index instead",
            flush=True,
        )
        return False


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="python -m mlplatform.pipelines.launcher.packages")
    parser.add_argument("--venv", required=True, type=Path)
    parser.add_argument("--index-url", action="append", default=[])
    parser.add_argument("--trusted-host", action="append", default=[])
    parser.add_argument("--package", action="append", default=[])
    args = parser.parse_args(argv[:split])
    task = argv[split + 1 :]
    if not task:
        parser.error("give the task's command after --")
    ensure(args.venv, args.package, args.index_url, args.trusted_host)
    os.execvp(task[0], task)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
