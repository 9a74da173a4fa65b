"""A model that fails or slows down on purpose: the bad canary of the canary tests and benchmarks.

`FaultyModel` is an MLServer custom runtime: the iris sklearn model (MLServer's SKLearnModel) plus two
faults, read when the model loads from `faults.json` in the model directory. The faults travel with
the model's artifacts, as a bad model version would, so the platform serves it like any other model:

    {"error_rate": 0.05,     # this fraction of inferences raise: HTTP 500, counted in model_infer_request_failure
     "delay_seconds": 0.2}   # added to every inference (an asyncio sleep, so requests still overlap)

Errors are spread evenly rather than drawn at random (with 0.05, every 20th request of a worker fails),
so a short analysis sees the same error rate every time.

How to serve it: MLServer imports a custom runtime from the model's own directory (`implementation:
faulty_runtime.FaultyModel` with `faulty_runtime.py` beside model-settings.json), in local mode and in
a cluster alike. `save_faulty_model` writes such a directory (model.joblib, faults.json and a copy of
this module); upload it and serve it with `implementation=IMPLEMENTATION`:

    from tests.support.faulty_runtime import IMPLEMENTATION, save_faulty_model

    platform.upload_directory(save_faulty_model(tmp_path / "bad", error_rate=0.05), "s3://models/iris/bad")
    platform.apply({"modelServer": {
        "models": [{"name": "iris", "uri": "s3://models/iris/1"}],
        "canary": {"enabled": True, "weight": 50,
                   "models": [{"name": "iris", "uri": "s3://models/iris/bad", "implementation": IMPLEMENTATION}]}}})

With no faults (`save_faulty_model(dir)`) it is a healthy model served by the same runtime.

This module runs inside MLServer's worker processes: at import time it needs only mlserver and
mlserver_sklearn (the test helpers are imported inside `save_faulty_model`).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from mlserver.errors import MLServerError
from mlserver.types import InferenceRequest, InferenceResponse
from mlserver_sklearn import SKLearnModel

IMPLEMENTATION = "faulty_runtime.FaultyModel"
FAULTS_FILE = "faults.json"


class InjectedFault(MLServerError):
    def __init__(self, count: int):
        super().__init__(f"injected fault (request {count} of this worker)", status_code=500)


class FaultyModel(SKLearnModel):
    async def load(self) -> bool:
        faults = self._read_faults()
        self._error_rate = float(faults.get("error_rate", 0.0))
        self._delay_seconds = float(faults.get("delay_seconds", 0.0))
        self._count = 0
        return await super().load()

    def _read_faults(self) -> dict:
        """faults.json beside model-settings.json ({} when there is none: a healthy model)."""
        source = getattr(self.settings, "_source", None)
        path = Path(source).parent / FAULTS_FILE if source else None
        return json.loads(path.read_text()) if path is not None and path.is_file() else {}

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        self._count += 1
        if self._delay_seconds > 0:
            await asyncio.sleep(self._delay_seconds)
        # Fail when the running total of expected failures passes a whole number: exactly error_rate, evenly spread.
        if int(self._count * self._error_rate) > int((self._count - 1) * self._error_rate):
            raise InjectedFault(self._count)
        return await super().predict(payload)


def save_faulty_model(directory: Path, *, error_rate: float = 0.0, delay_seconds: float = 0.0) -> Path:
    """A model directory MLServer serves with `implementation: faulty_runtime.FaultyModel`: the iris model,
    faults.json with the faults and this module as faulty_runtime.py."""
    from tests.support.local_fixtures import save_iris_model

    directory = save_iris_model(Path(directory))
    (directory / FAULTS_FILE).write_text(json.dumps({"error_rate": error_rate, "delay_seconds": delay_seconds}))
    shutil.copyfile(Path(__file__), directory / "faulty_runtime.py")
    return directory
