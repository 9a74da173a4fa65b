"""`python -m mlplatform.pipelines.launcher download|upload|run` (see the package docstring)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mlplatform.pipelines.launcher.manifest import Manifest
from mlplatform.pipelines.launcher.transfer import download, upload
from mlplatform.s3 import s3_client

_WAIT_POLL_SECONDS = 0.2


def _download_all(manifest: Manifest) -> None:
    s3 = s3_client()
    for item in manifest.downloads:
        count = download(s3, item.uri, item.path)
        print(f"launcher: downloaded {item.uri} ({count} file(s))", flush=True)


def custom_paths(executor_output: str) -> dict[str, str]:
    """{artifact URI: the path the task wrote it at} for the outputs it gave a custom path (set_path)."""
    if not executor_output or not Path(executor_output).exists():
        return {}
    written = json.loads(Path(executor_output).read_text() or "{}")
    return {
        artifact["uri"]: artifact["custom_path"]
        for output in written.get("artifacts", {}).values()
        for artifact in output.get("artifacts", [])
        if artifact.get("custom_path") and artifact.get("uri")
    }


def _upload_all(manifest: Manifest) -> None:
    s3 = s3_client()
    custom = custom_paths(manifest.executor_output)
    for item in manifest.uploads:
        path = custom.get(item.uri, item.path)
        if path != item.path and not Path(path).exists():
            raise FileNotFoundError(
                f"launcher: the output {item.uri} was set to the custom path {path}, which this container "
                "cannot see (write it under the workspace, /s3 or the outputs directory)"
            )
        count = upload(s3, path, item.uri)
        print(
            f"launcher: uploaded {item.uri} from {path} ({count} file(s))"
            if count
            else f"launcher: no {path}",
            flush=True,
        )


def _wait_for_exit_code(path: str) -> int:
    while not Path(path).exists():
        time.sleep(_WAIT_POLL_SECONDS)
    return int(Path(path).read_text().strip() or "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlplatform.pipelines.launcher",
        usage="%(prog)s {download,upload,run} --manifest JSON|@FILE [-- COMMAND...]",
    )
    parser.add_argument("mode", choices=["download", "upload", "run"])
    parser.add_argument("--manifest", required=True, help="the manifest as JSON, or @file")
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    argv, command = argv[:split], argv[split + 1 :]
    args = parser.parse_args(argv)
    text = Path(args.manifest[1:]).read_text() if args.manifest.startswith("@") else args.manifest
    manifest = Manifest.from_json(text)
    if args.mode == "download":
        _download_all(manifest)
        return 0
    if args.mode == "upload":
        code = _wait_for_exit_code(manifest.exit_code_file) if manifest.exit_code_file else 0
        if code != 0:
            print(f"launcher: the task exited with {code}; nothing uploaded", flush=True)
            return code
        _upload_all(manifest)
        return 0
    if not command:
        parser.error("run needs the task's command after --")
    _download_all(manifest)
    code = subprocess.call(command, env=os.environ)
    if code == 0:
        _upload_all(manifest)
    return code


if __name__ == "__main__":
    sys.exit(main())
