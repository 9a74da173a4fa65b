"""The engine: drives each run's DAG to completion on a runner, and survives restarts.

controller.py      the scheduler thread: run queue, runner watchers, resume, terminate, retry
dag.py             one reconciliation pass over a run's task tree (what to start, what finished)
inputs.py          resolving a task's inputs from its scope and its upstream tasks
executor_input.py  the ExecutorInput the kfp executor reads, as KFP's driver builds it
layout.py          where a task sees its artifacts and files, per runner and artifact root
states.py          task states, finish(), the EngineHost protocol dag.py and attempts.py use
launch.py          ExecutorInput + placeholders + container -> the runner's TaskSpec; reading outputs
cache.py           cache keys
"""
