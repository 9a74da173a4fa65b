"""The Helm hook programs: preflight (pre-install/upgrade) and register (post-install/upgrade).

Each reads its release's hooks.json (config.py) or local mode's state, so it runs the same in a Job and
on a laptop. The validate hook lives with the checks (mlplatform.checks.cli)."""
