"""Finishes successfully without ever printing the objective metric."""

import sys

print("training done, but the metric name is misspelt: acuracy=0.9", file=sys.stdout)
