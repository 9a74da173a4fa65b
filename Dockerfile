# The platform image: ghcr.io/mlplatform/mlplatform:<appVersion of charts/mlplatform/Chart.yaml>.
# It runs `mlp` (services, hooks, model fetch, the pipeline task launcher), MLServer and the MLflow server.
#   docker build -t ghcr.io/mlplatform/mlplatform:<appVersion> .   (ci/scripts/release.sh does it on a release tag)
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY mlplatform ./mlplatform
# The server extra brings MLServer, MLflow's server side, Optuna and the PostgreSQL driver.
RUN /opt/venv/bin/pip install ".[server]"

FROM ${PYTHON_IMAGE}
ARG UID=1000
# HOME and the working directory are where relative defaults land (SQLite files, .mlplatform/ state,
# caches). The charts mount emptyDirs on /tmp and on HOME, because the root filesystem is read-only.
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/home/mlplatform \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MLSERVER_METRICS_DIR=/tmp/mlserver-metrics \
    MLSERVER_ENVIRONMENTS_DIR=/tmp/mlserver-envs \
    MPLCONFIGDIR=/tmp/matplotlib
# The charts' runAsUser is 1000: the numeric USER below lets runAsNonRoot verify it.
RUN groupadd --gid "$UID" mlplatform \
    && useradd --uid "$UID" --gid "$UID" --home-dir /home/mlplatform --create-home --shell /usr/sbin/nologin mlplatform
COPY --from=build /opt/venv /opt/venv
WORKDIR /home/mlplatform
USER ${UID}:${UID}
CMD ["mlp", "--help"]
