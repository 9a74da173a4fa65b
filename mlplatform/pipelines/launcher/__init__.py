"""The launcher: moves a task's artifacts between S3 and the filesystem the task sees.

A manifest (JSON) lists what to download before the task and what to upload after it:

    {"downloads": [{"uri": "s3://b/run/train/model", "path": "/s3/b/run/train/model"}],
     "uploads":   [{"path": "/s3/b/run/eval/metrics", "uri": "s3://b/run/eval/metrics"}],
     "exit_code_file": "/mlp/exit_code"}

An artifact is a file or a directory: a download fetches the object at the key, or every object under
`key/`; an upload sends a file to the key, or each file of a directory under `key/`. Missing outputs are
skipped (a component may leave an optional output unwritten).

Used three ways (python -m mlplatform.pipelines.launcher ...):
    download --manifest M       Kubernetes init container, in the platform image
    upload --manifest M         Kubernetes uploader container: waits for the task's exit code file first
    run --manifest M -- CMD...  local runner with an S3 artifact root: download, run CMD, upload
"""
