"""`mlp serve pipelines`: the pipeline controller (contracts §3)."""

from __future__ import annotations

from pathlib import Path

import click

from mlplatform.cli.options import absolute_location
from mlplatform.service import service_options


@click.command("pipelines")
@service_options(service="pipelines", port=8888, work="tasks")
@click.option(
    "--artifact-root",
    default=None,
    callback=absolute_location,
    help="Where artifacts go: a directory or s3://bucket/prefix (default: <state-dir>/artifacts).",
)
@click.option("--max-upload-bytes", type=click.IntRange(min=1024), default=32 * 1024 * 1024, show_default=True,
              help="Largest pipeline package accepted by /pipelines/upload and /upload_version (413 above it).")
@click.option("--auth-mode", type=click.Choice(["none", "token", "kubernetes"]), default="none",
              envvar="MLP_AUTH_MODE", show_default=True,
              help="Multi-user mode: 'kubernetes' checks bearer tokens with TokenReview and each request with a "
                   "SubjectAccessReview (KFP's runs, experiments, pipelines in pipelines.kubeflow.org, in the "
                   "object's namespace); 'token' answers both from --auth-tokens (local use, tests); 'none' "
                   "serves every request.")
@click.option("--auth-tokens", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              envvar="MLP_AUTH_TOKENS", help="Token mode: a CSV of token,user,namespace[;namespace...].")
def serve(
    host: str, port: int, db: str, runner: str, state_dir: Path, max_parallel: int, artifact_root: str | None,
    max_body_bytes: int, max_upload_bytes: int, auth_mode: str, auth_tokens: Path | None,
) -> None:
    """Serve the KFP v2beta1 API and run pipelines (kfp.Client(host=...) works unchanged)."""
    from mlplatform.pipelines.service import Settings, build_app
    from mlplatform.service import serve as serve_app

    settings = Settings(
        db=db,
        runner=runner,
        state_dir=state_dir,
        max_parallel=max_parallel,
        artifact_root=artifact_root or str(state_dir / "artifacts"),
        max_body_bytes=max_body_bytes,
        max_upload_bytes=max_upload_bytes,
        auth=make_auth(auth_mode, auth_tokens),
    )
    app = build_app(settings)
    click.echo(
        f"pipeline controller on http://{host}:{port} (runner {runner}, artifacts {settings.artifact_root}, "
        f"auth {auth_mode})"
    )
    serve_app(app, host, port)


def make_auth(mode: str, tokens: Path | None):
    """The authenticator and authorizer for --auth-mode; None for `none`."""
    if mode == "none":
        return None
    from mlplatform.auth import KubernetesAuth, TokenAuth

    if mode == "token":
        if tokens is None:
            raise click.UsageError("--auth-mode token needs --auth-tokens FILE (token,user,namespace[;namespace...])")
        try:
            return TokenAuth.from_file(tokens)
        except ValueError as error:
            raise click.UsageError(str(error)) from None
    from mlplatform.kube import api_client

    return KubernetesAuth(api_client())
