"""The tuning engine: Optuna studies driven by ask-and-tell, and Katib's rules around them.

One controller thread reconciles every active experiment whenever something changes (a trial ends,
an experiment is created or patched) and at least once a second: it decides whether the experiment
is done (goal reached, too many failures, max trials, grid exhausted) and otherwise asks Optuna for
as many new trials as free parallel slots allow.

One watcher thread per unfinished trial waits on the trial's backend, feeds the objective's
intermediate values to the median pruner, and finalises the trial. Only a trial's watcher writes its
final state: trial row first, then Optuna (`told`), so a restart can finish either half.

A restarted engine resumes: every unfinished trial gets a watcher again, which re-attaches to its
task by name; a task that was lost (never started, or its process died with no result) is re-run
once, then marked failed; trials Optuna was asked for but that never got a row are failed in Optuna.
"""

from __future__ import annotations

import copy
import logging
import secrets
import string
import threading
import time
from collections import defaultdict

import optuna

from mlplatform.runners import TaskNotFound, TaskState, TaskStatus
from mlplatform.tuning.algorithms import grid_size, make_pruner, make_sampler, search_space
from mlplatform.tuning.collectors import MetricLog, objective_value, observation, series
from mlplatform.tuning.monitoring import TuningMetrics
from mlplatform.tuning.spec import Experiment, SpecError, experiment_key, parse_experiment
from mlplatform.tuning.status import Tally, best_trial
from mlplatform.tuning.store import (
    ExperimentRecord,
    OutputRetention,
    Phase,
    Store,
    TrialRecord,
    TrialState,
    TrialSummary,
)
from mlplatform.tuning.trials import TrialBackend

log = logging.getLogger("mlplatform.tuning")

RECONCILE_SECONDS = 1.0
WATCH_SECONDS = 1.0  # how often a watcher looks at a running trial (pruning, state changes)
MAX_ATTEMPTS = 2  # a lost trial is run at most this many times
TAIL_LINES = 5  # output lines quoted in a failed trial's condition message
_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits

optuna.logging.set_verbosity(optuna.logging.WARNING)


class NotFound(LookupError):
    pass


class Conflict(Exception):
    pass


class Engine:
    def __init__(self, store: Store, backends: dict[str, TrialBackend], metrics: TuningMetrics,
                 retention: OutputRetention = OutputRetention()):
        self.store = store
        self.backends = backends  # trialSpec kind -> backend
        self.metrics = metrics
        self.retention = retention
        self.storage = optuna.storages.RDBStorage(store.url, engine_kwargs=_optuna_engine_options(store.url))
        self._guard = threading.Lock()  # protects the dictionaries below
        self._locks: dict[str, threading.RLock] = defaultdict(threading.RLock)  # per experiment
        self._studies: dict[str, optuna.Study] = {}
        self._parsed: dict[str, tuple[dict, Experiment]] = {}
        self._optuna_trials: dict[str, optuna.Trial] = {}
        self._reported: dict[str, int] = {}
        self._stopping: dict[str, tuple[TrialState, str, str]] = {}
        self._watchers: dict[str, threading.Thread] = {}
        self._deleting: set[str] = set()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._controller = threading.Thread(target=self._control, name="tuning-controller", daemon=True)
        self._recovered = False

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self._recover()
        self._recovered = True
        self._controller.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def not_ready(self) -> str | None:
        """None when ready (readiness probe), otherwise why not."""
        if not self._recovered:
            return "resuming experiments"
        if not self._controller.is_alive():
            return "the controller thread stopped"
        self.store.ping()
        return None

    def wake(self) -> None:
        self._wake.set()

    # --- the API's operations -----------------------------------------------------------------------------

    def create(self, experiment: Experiment) -> ExperimentRecord:
        """Store the experiment and its Optuna study; raises ExperimentExists for a taken name."""
        record = ExperimentRecord(
            name=experiment.key, uid=secrets.token_hex(8), manifest=experiment.manifest
        )
        self.store.insert_experiment(record)
        try:
            optuna.create_study(
                storage=self.storage, study_name=record.study_name, direction=experiment.objective.type
            )
        except Exception:
            self.store.delete_experiment(record.name)
            raise
        self.wake()
        return record

    def experiment(self, key: str) -> tuple[ExperimentRecord, Experiment]:
        """The experiment stored under `key` (`Experiment.key`; `resolve` finds it from a name)."""
        record = self.store.experiment(key)
        if record is None or key in self._deleting:
            raise NotFound(f"experiment {key.split('.', 1)[-1]} not found")
        return record, self._experiment(record)

    def resolve(self, name: str, namespace: str | None = None) -> str:
        """The key of the experiment called `name` (in `namespace`, or in the only namespace that has one)."""
        if namespace:
            return experiment_key(namespace, name)
        keys = self.store.keys_named(name)
        if len(keys) > 1:
            spaces = ", ".join(sorted(key.split(".", 1)[0] for key in keys))
            raise Conflict(f"experiment {name} exists in several namespaces ({spaces}); add ?namespace=")
        if not keys:
            raise NotFound(f"experiment {name} not found")
        return keys[0]

    def patch(self, name: str, changes: dict) -> None:
        """Change the counts of a live experiment; raising maxTrialCount resumes one that reached it."""
        with self._lock(name):
            record, _ = self.experiment(name)
            manifest = copy.deepcopy(record.manifest)
            for key, value in changes.items():
                if value is None:
                    manifest["spec"].pop(key, None)
                else:
                    manifest["spec"][key] = value
            experiment = parse_experiment(manifest)  # SpecError: the API answers 400
            updates = {"manifest": experiment.manifest}
            trials = Tally.of(self.store.trials(name)).total
            if record.phase.finished:
                _check_restartable(record, experiment, trials)
            if record.reason == "ExperimentMaxTrialsReached":
                updates.update(
                    phase=Phase.RUNNING,
                    reason="ExperimentRestarting",
                    completed_at=None,
                    message="Experiment is running again: maxTrialCount was raised",
                )
            self.store.update_experiment(name, **updates)
        self.wake()

    def delete(self, name: str) -> None:
        """Kill the experiment's trials, then forget the experiment, its trials and its study."""
        record, experiment = self.experiment(name)
        try:
            with self._lock(name):  # no trial starts once this is held and the name is in _deleting
                with self._guard:
                    self._deleting.add(name)
                trials = self.store.trials(name)
                unfinished = [trial for trial in trials if not trial.state.finished]
                for trial in unfinished:
                    self._stop_trial(
                        experiment,
                        trial,
                        TrialState.KILLED,
                        "TrialKilled",
                        "the experiment was deleted",
                        wait=False,
                    )
            for trial in unfinished:
                watcher = self._watchers.get(trial.name)
                if watcher is not None:
                    watcher.join(timeout=30)
            for trial in trials:
                self._forget_task(experiment, trial)
            try:
                optuna.delete_study(study_name=record.study_name, storage=self.storage)
            except KeyError:
                pass
            self.store.delete_experiment(name)
        finally:
            with self._guard:
                self._deleting.discard(name)
                self._studies.pop(name, None)
                self._parsed.pop(name, None)

    def push_metrics(self, trial_name: str, logs: list[MetricLog]) -> None:
        """Metrics a trial reported itself (the Push collector)."""
        trial = self.store.trial(trial_name)
        if trial is None:
            raise NotFound(f"trial {trial_name} not found")
        _, experiment = self.experiment(trial.experiment)
        if experiment.collector.kind != "Push":
            raise Conflict(
                f"experiment {experiment.name} collects metrics with {experiment.collector.kind}, "
                "not Push; set metricsCollectorSpec.collector.kind: Push to report metrics"
            )
        if trial.state.finished:
            raise Conflict(f"trial {trial_name} has already finished ({trial.state.value})")
        self.store.add_metric_logs(trial_name, logs)

    # --- the controller ---------------------------------------------------------------------------

    def _control(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(RECONCILE_SECONDS)
            self._wake.clear()
            for record in self.store.experiments(Phase.CREATED, Phase.RUNNING):
                if record.name in self._deleting:
                    continue
                try:
                    with self._lock(record.name):
                        self._reconcile(record.name)
                except Exception:
                    log.exception("reconciling experiment %s failed; retrying", record.name)

    def _reconcile(self, name: str) -> None:
        record = self.store.experiment(name)
        if record is None or record.phase.finished or name in self._deleting:
            return
        try:
            experiment = self._experiment(record)
        except SpecError as error:
            self._complete(record, None, Phase.FAILED, "ExperimentFailed", f"cannot run: {error}")
            return
        trials = self.store.trial_summaries(name)  # light: this runs whenever anything changes
        tally = Tally.of(trials)
        verdict = self._verdict(experiment, trials, tally)
        if verdict is not None:
            self._complete(record, experiment, *verdict)
            return
        if record.phase is Phase.CREATED or record.reason == "ExperimentRestarting":
            self.store.update_experiment(
                name,
                phase=Phase.RUNNING,
                reason="ExperimentRunning",
                message="Experiment is running",
                started_at=record.started_at or time.time(),
            )
        for _ in range(self._free_slots(experiment, tally)):
            if not self._launch(experiment, record):
                return

    def _verdict(self, experiment: Experiment, trials: list[TrialSummary], tally: Tally):
        """Katib's completion rules, in Katib's order: (phase, reason, message) or None to go on."""
        best = best_trial(trials, experiment.objective)
        if best is not None and experiment.objective.reached(best.objective):
            return (
                Phase.SUCCEEDED,
                "ExperimentGoalReached",
                "Experiment has succeeded because Objective goal has reached",
            )
        failed = tally.count(TrialState.FAILED) + tally.count(TrialState.METRICS_UNAVAILABLE)  # as Katib counts
        if experiment.max_failed_trials is not None and failed > experiment.max_failed_trials:
            return (
                Phase.FAILED,
                "ExperimentFailed",
                f"Experiment has failed because max failed count has reached ({failed} failed trials)",
            )
        if experiment.max_trials is not None and tally.completed >= experiment.max_trials:
            return (
                Phase.SUCCEEDED,
                "ExperimentMaxTrialsReached",
                "Experiment has succeeded because max trial count has reached",
            )
        if self._suggestions_left(experiment, tally) == 0 and tally.active == 0:
            return (
                Phase.SUCCEEDED,
                "ExperimentSuggestionEndReached",
                "Experiment has succeeded because suggestion service has reached the end",
            )
        return None

    def _suggestions_left(self, experiment: Experiment, tally: Tally) -> int | None:
        if experiment.algorithm.name != "grid":
            return None
        return max(grid_size(experiment.parameters) - tally.total, 0)

    def _free_slots(self, experiment: Experiment, tally: Tally) -> int:
        free = experiment.parallel_trials - tally.active
        if experiment.max_trials is not None:
            free = min(free, experiment.max_trials - tally.total)
        left = self._suggestions_left(experiment, tally)
        if left is not None:
            free = min(free, left)
        return max(free, 0)

    def _complete(
        self, record: ExperimentRecord, experiment: Experiment | None, phase: Phase, reason: str, message: str
    ) -> None:
        self.store.update_experiment(
            record.name, phase=phase, reason=reason, message=message, completed_at=time.time()
        )
        log.info("experiment %s %s: %s", record.name, phase.value, message)
        if experiment is not None:
            for trial in self.store.trials(record.name):
                if not trial.state.finished:
                    self._stop_trial(
                        experiment,
                        trial,
                        TrialState.KILLED,
                        "TrialKilled",
                        f"the experiment finished ({reason})",
                        wait=False,
                    )
        with self._guard:
            self._studies.pop(record.name, None)

    def _launch(self, experiment: Experiment, record: ExperimentRecord) -> bool:
        """Ask Optuna for a trial and start it; False when the algorithm failed (the experiment fails)."""
        study = self._study(experiment, record)
        try:
            suggestion = study.ask(search_space(experiment))
        except Exception as error:
            log.exception("experiment %s: the algorithm failed", experiment.name)
            self._complete(
                record,
                experiment,
                Phase.FAILED,
                "ExperimentFailed",
                f"the {experiment.algorithm.name} algorithm could not suggest a trial: {error}",
            )
            return False
        assignments = [
            {"name": parameter.name, "value": str(suggestion.params[parameter.name])}
            for parameter in experiment.parameters
        ]
        trial = TrialRecord(
            name=_trial_name(experiment.name),
            experiment=experiment.key,
            number=suggestion.number,
            assignments=assignments,
        )
        self.store.insert_trial(trial)
        with self._guard:
            self._optuna_trials[trial.name] = suggestion
        self.metrics.trials_started.inc()
        self._start_trial(experiment, trial)
        return True

    def _start_trial(self, experiment: Experiment, trial: TrialRecord) -> None:
        try:
            self._backend(experiment).start(experiment, trial)
        except Exception as error:
            log.exception("trial %s could not start", trial.name)
            self._finalize(
                experiment,
                trial,
                TrialState.FAILED,
                "TrialFailed",
                f"the trial could not start: {error}",
                logs=[],
            )
            return
        self._watch(trial)

    # --- watching trials --------------------------------------------------------------------------

    def _watch(self, trial: TrialRecord) -> None:
        watcher = threading.Thread(
            target=self._watch_trial,
            args=(trial.experiment, trial.name),
            name=f"trial-{trial.name}",
            daemon=True,
        )
        with self._guard:
            self._watchers[trial.name] = watcher
        watcher.start()

    def _watch_trial(self, experiment_name: str, trial_name: str) -> None:
        try:
            while not self._stopped.is_set():
                trial = self.store.trial(trial_name)
                record = self.store.experiment(experiment_name)
                if trial is None or record is None or trial.state.finished:
                    return
                experiment = self._experiment(record)
                if self._step(experiment, record, trial):
                    return
        except Exception:
            log.exception("watching trial %s failed", trial_name)
        finally:
            with self._guard:
                self._watchers.pop(trial_name, None)
            self.wake()

    def _step(self, experiment: Experiment, record: ExperimentRecord, trial: TrialRecord) -> bool:
        """Wait a moment on the trial and act on what it did; True once it is finalised."""
        backend = self._backend(experiment)
        try:
            status = backend.wait(trial, timeout=WATCH_SECONDS)
        except TaskNotFound:
            return self._rerun(experiment, trial, "its task is gone")
        if status.state is TaskState.RUNNING and trial.state is TrialState.PENDING:
            self.store.update_trial(
                trial.name,
                state=TrialState.RUNNING,
                reason="TrialRunning",
                message="Trial is running",
                started_at=status.started_at or time.time(),
            )
        if status.state.finished:
            return self._finish(experiment, trial, status)
        prunes = experiment.early_stopping is not None or experiment.algorithm.name == "hyperband"
        if prunes and trial.name not in self._stopping:
            self._judge(experiment, record, trial)
        return False

    def _judge(self, experiment: Experiment, record: ExperimentRecord, trial: TrialRecord) -> None:
        """Report new intermediate values to Optuna and stop the trial if the median pruner says so."""
        values = series(self._backend(experiment).metric_logs(experiment, trial), experiment.objective.metric)
        with self._lock(experiment.key):
            suggestion = self._optuna_trial(experiment, record, trial)
            if trial.name not in self._reported:  # resumed after a restart: what storage already has
                self._reported[trial.name] = len(suggestion.study.trials[trial.number].intermediate_values)
            reported = self._reported[trial.name]
            if len(values) <= reported:
                return
            for step in range(reported, len(values)):
                suggestion.report(values[step], step)
            self._reported[trial.name] = len(values)
            prune = suggestion.should_prune()
        if prune:
            self._stop_trial(
                experiment,
                trial,
                TrialState.EARLY_STOPPED,
                "TrialEarlyStopped",
                f"{_stopping_rule(experiment)}: {experiment.objective.metric}={values[-1]:g} at step "
                f"{len(values) - 1} is worse than {_stopping_yardstick(experiment)}",
            )

    def _finish(self, experiment: Experiment, trial: TrialRecord, status: TaskStatus) -> bool:
        with self._guard:
            stopping = self._stopping.pop(trial.name, None)
        if stopping is None and status.state is TaskState.FAILED and status.reason == "Lost":
            return self._rerun(experiment, trial, status.message)
        backend = self._backend(experiment)
        try:
            logs = backend.metric_logs(experiment, trial)
        except Exception as error:  # the output is gone (a deleted task, an unreachable controller)
            log.warning("trial %s: cannot read its metrics: %s", trial.name, error)
            logs = []
        output = self._keep_output(backend, trial)
        value = objective_value(logs, experiment.objective)
        metric = experiment.objective.metric
        if stopping is not None:
            state, reason, message = stopping
        elif status.state is TaskState.SUCCEEDED and value is None:
            state, reason, message = (
                TrialState.METRICS_UNAVAILABLE,
                "MetricsUnavailable",
                f"the trial succeeded but never reported the objective metric {metric}" + output_tail(output),
            )
        elif status.state is TaskState.SUCCEEDED:
            state, reason, message = TrialState.SUCCEEDED, "TrialSucceeded", "Trial has succeeded"
        elif status.state is TaskState.CANCELLED:
            state, reason, message = TrialState.KILLED, "TrialKilled", "the trial's task was cancelled"
        else:
            state, reason, message = (
                TrialState.FAILED,
                "TrialFailed",
                f"{status.reason}: {status.message}".strip(": ") + output_tail(output),
            )
        self._finalize(experiment, trial, state, reason, message, logs, value, status.started_at)
        if not experiment.template.retain:
            self._forget_task(experiment, trial)
        return True

    def _keep_output(self, backend: TrialBackend, trial: TrialRecord) -> str:
        """Read the finished trial's output and keep it, so it outlives the trial's task."""
        try:
            output = backend.output(trial)
        except Exception as error:  # the task is gone, or its controller does not answer
            output = f"(the trial's output could not be read: {error})\n"
        self.store.keep_output(trial.name, output, self.retention)
        return output

    def metric_history(self, experiment: Experiment, trial: TrialRecord) -> list[MetricLog]:
        """Every value the trial reported, in order: stored once it finished, read live while it runs."""
        if trial.state.finished or experiment.collector.kind == "Push":
            return self.store.metric_logs(trial.name)
        try:
            return self._backend(experiment).metric_logs(experiment, trial)
        except Exception as error:  # the task is gone or its controller does not answer: nothing to plot yet
            log.warning("trial %s: cannot read its metrics: %s", trial.name, error)
            return []

    def trial_output(self, trial: TrialRecord) -> str:
        """A running trial's output so far, or what was kept of a finished one."""
        if not trial.state.finished:
            experiment = self.experiment(trial.experiment)[1]
            try:
                return self._backend(experiment).output(trial)
            except TaskNotFound:
                return ""
        kept = self.store.output(trial.name)
        return kept if kept is not None else "(no output kept for this trial: it ended before output was kept, or " \
                                             "newer trials pushed it out)\n"

    def _finalize(
        self,
        experiment: Experiment,
        trial: TrialRecord,
        state: TrialState,
        reason: str,
        message: str,
        logs: list[MetricLog],
        value: float | None = None,
        started_at: float | None = None,
    ) -> None:
        now = time.time()
        started = trial.started_at or started_at or trial.created_at
        with self._lock(experiment.key):  # no suggestion may come between the row and Optuna's update
            self.store.update_trial(
                trial.name,
                state=state,
                reason=reason,
                message=message,
                observation=observation(logs, experiment.objective),
                objective=value,
                started_at=started,
                completed_at=now,
            )
            if experiment.collector.kind != "Push" and logs:  # pushed ones are stored as they arrive
                self.store.add_metric_logs(trial.name, logs)  # the history dashboards plot
            self._tell(experiment, trial, state, value)
            self.store.update_trial(trial.name, told=True)
        with self._guard:
            self._optuna_trials.pop(trial.name, None)
            self._reported.pop(trial.name, None)
        self.metrics.trial_duration.labels(state=state.value).observe(max(now - started, 0.0))
        self.wake()

    def _tell(
        self, experiment: Experiment, trial: TrialRecord, state: TrialState, value: float | None
    ) -> None:
        record = self.store.experiment(experiment.key)
        if record is None:  # deleted meanwhile, and its study with it
            return
        with self._lock(experiment.key):
            study = self._study(experiment, record)
            if state is TrialState.SUCCEEDED:
                study.tell(trial.number, value, skip_if_finished=True)
            elif state is TrialState.EARLY_STOPPED:
                study.tell(trial.number, state=optuna.trial.TrialState.PRUNED, skip_if_finished=True)
            else:
                study.tell(trial.number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)

    def _stop_trial(
        self,
        experiment: Experiment,
        trial: TrialRecord,
        state: TrialState,
        reason: str,
        message: str,
        wait: bool = True,
    ) -> None:
        """Cancel a running trial; its watcher records `state` when the task has stopped."""
        with self._guard:
            self._stopping[trial.name] = (state, reason, message)
        backend = self._backend(experiment)

        def cancel():
            try:
                backend.cancel(trial)
            except TaskNotFound:
                pass
            except Exception:
                log.exception("cancelling trial %s failed", trial.name)

        if wait:
            cancel()
        else:  # from the controller thread: a process may take seconds to stop
            threading.Thread(target=cancel, name=f"cancel-{trial.name}", daemon=True).start()

    def _rerun(self, experiment: Experiment, trial: TrialRecord, why: str) -> bool:
        """Start a lost trial again with the same assignments, or fail it after MAX_ATTEMPTS."""
        if trial.attempts >= MAX_ATTEMPTS:
            self._finalize(
                experiment,
                trial,
                TrialState.FAILED,
                "TrialFailed",
                f"lost after {trial.attempts} attempts: {why}",
                logs=[],
            )
            return True
        log.warning("trial %s was lost (%s); running it again", trial.name, why)
        self._forget_task(experiment, trial)
        self.store.clear_metric_logs(trial.name)
        self.store.update_trial(
            trial.name,
            attempts=trial.attempts + 1,
            state=TrialState.PENDING,
            reason="TrialRestarted",
            message=f"running again: {why}",
            started_at=None,
            run_id=None,
        )
        trial = self.store.trial(trial.name)
        try:
            self._backend(experiment).start(experiment, trial)
        except Exception as error:
            self._finalize(
                experiment, trial, TrialState.FAILED, "TrialFailed", f"could not restart: {error}", logs=[]
            )
            return True
        return False

    def _forget_task(self, experiment: Experiment, trial: TrialRecord) -> None:
        try:
            self._backend(experiment).delete(trial)
        except TaskNotFound:
            pass
        except Exception as error:
            log.warning("trial %s: cannot delete its task: %s", trial.name, error)

    # --- restart ----------------------------------------------------------------------------------

    def _recover(self) -> None:
        for record in self.store.experiments():
            try:
                experiment = self._experiment(record)
            except SpecError as error:
                if not record.phase.finished:
                    self._complete(record, None, Phase.FAILED, "ExperimentFailed", f"cannot resume: {error}")
                continue
            trials = self.store.trials(record.name)
            if not record.phase.finished:
                self._fail_orphans(experiment, record, trials)
            for trial in trials:
                if trial.state.finished and not trial.told:
                    self._tell(experiment, trial, trial.state, trial.objective)
                    self.store.update_trial(trial.name, told=True)
                elif not trial.state.finished:
                    if record.phase.finished:
                        self._stop_trial(
                            experiment,
                            trial,
                            TrialState.KILLED,
                            "TrialKilled",
                            f"the experiment finished ({record.reason})",
                            wait=False,
                        )
                    self._watch(trial)
            if trials:
                log.info("experiment %s: resumed with %d trials", record.name, len(trials))

    def _fail_orphans(
        self, experiment: Experiment, record: ExperimentRecord, trials: list[TrialRecord]
    ) -> None:
        """Trials Optuna handed out just before a crash, before they were recorded: they never ran."""
        recorded = {trial.number for trial in trials}
        study = self._study(experiment, record)
        for frozen in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            if frozen.number not in recorded:
                study.tell(frozen.number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)

    # --- helpers ----------------------------------------------------------------------------------

    def _lock(self, name: str) -> threading.RLock:
        with self._guard:
            return self._locks[name]

    def _backend(self, experiment: Experiment) -> TrialBackend:
        backend = self.backends.get(experiment.template.kind)
        if backend is None:
            raise Conflict(f"this service cannot run them: {self.backend_available(experiment)}")
        return backend

    def backend_available(self, experiment: Experiment) -> str | None:
        """None when this service can run the experiment's trials, otherwise why not."""
        if experiment.template.kind not in self.backends:
            where = ("on the pipeline controller; start the service with --pipelines-url"
                     if experiment.template.kind == "PipelineRun" else
                     "on the training operator; start the service with --training-url (or --runner kubernetes)")
            return f"spec.trialTemplate.trialSpec: {experiment.template.kind} trials run {where}"
        return None

    def _experiment(self, record: ExperimentRecord) -> Experiment:
        """The record's parsed manifest, parsed once per manifest version."""
        with self._guard:
            cached = self._parsed.get(record.name)
        if cached is not None and cached[0] == record.manifest:
            return cached[1]
        experiment = parse_experiment(copy.deepcopy(record.manifest))
        with self._guard:
            self._parsed[record.name] = (record.manifest, experiment)
        return experiment

    def _study(self, experiment: Experiment, record: ExperimentRecord) -> optuna.Study:
        with self._guard:
            study = self._studies.get(record.name)
        if study is None:
            study = optuna.load_study(
                study_name=record.study_name,
                storage=self.storage,
                sampler=make_sampler(experiment, len(self.store.trials(record.name))),
                pruner=make_pruner(experiment),
            )
            with self._guard:
                self._studies[record.name] = study
        return study

    def _optuna_trial(
        self, experiment: Experiment, record: ExperimentRecord, trial: TrialRecord
    ) -> optuna.Trial:
        """The live Optuna trial to report to; rebuilt from storage for a trial resumed after a restart."""
        with self._guard:
            suggestion = self._optuna_trials.get(trial.name)
        if suggestion is None:
            study = self._study(experiment, record)
            frozen = study.trials[trial.number]
            suggestion = optuna.Trial(study, frozen._trial_id)  # Optuna has no public lookup by number
            with self._guard:
                self._optuna_trials[trial.name] = suggestion
        return suggestion


def _check_restartable(record: ExperimentRecord, experiment: Experiment, trials: int) -> None:
    """Katib's rule: a completed experiment restarts only after reaching maxTrialCount, with resumePolicy
    LongRunning or FromVolume, and with a maxTrialCount above the trials it already has."""
    if record.reason != "ExperimentMaxTrialsReached" or experiment.resume_policy == "Never":
        raise SpecError([
            (
                f"spec.resumePolicy: {experiment.resume_policy}: an experiment can be restarted only if it "
                "succeeded by reaching max trials and spec.resumePolicy is LongRunning or FromVolume "
                f"(this one is {record.phase.value}: {record.reason})"
            )
        ])
    if experiment.max_trials is not None and experiment.max_trials <= trials:
        raise SpecError([f"spec.maxTrialCount: {experiment.max_trials} must be greater than status.trials ({trials})"])


def _stopping_rule(experiment: Experiment) -> str:
    return "hyperband" if experiment.algorithm.name == "hyperband" else "median stopping"


def _stopping_yardstick(experiment: Experiment) -> str:
    if experiment.algorithm.name == "hyperband":
        return "the trials kept in its hyperband bracket at that step"
    return "the median of earlier trials at that step"


def _trial_name(experiment: str) -> str:
    return f"{experiment}-{''.join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(8))}"


def _optuna_engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def output_tail(output: str, lines: int = TAIL_LINES) -> str:
    """'; output ends with:' and the last lines of a trial's output, for its condition message."""
    tail = [line.rstrip()[:300] for line in output.strip().splitlines()[-lines:]]
    return ("; output ends with:\n" + "\n".join(tail)) if tail else "; it wrote no output"
