"""Canary rollouts: the analysis that gates each step and the rollout that drives the steps."""
