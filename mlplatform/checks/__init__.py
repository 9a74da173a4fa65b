"""Validation: checks are `mlplatform.checks` plugins (base.py), run side by side (runner.py) into a
Report (report.py) that prints as a table or JSON. `mlp validate` and `mlp hook validate` live in cli.py."""
