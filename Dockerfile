# Bildungslotse – one image for every process: `bildungslotse run` (default), `db upgrade`, `knowledge load`, …
# Two stages: the build stage installs into a virtualenv, the runtime stage copies only that (no compilers,
# no pip cache). Runs as an unprivileged user; everything it writes (SQLite file, Matrix key store) is in /data.
# PYTHON_IMAGE: the base of both stages; only a machine without a registry swaps it (deploy/image-check.sh
# builds a Debian bookworm stand-in with python3 3.11, see docs/container-check.md).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
COPY handlers ./handlers
COPY knowledge ./knowledge
COPY db ./db
# exactly the versions in constraints.txt (`make lock`), the ones the tests ran with
# pip and setuptools leave the venv once it is built: the runtime never installs anything (about 25 MB less)
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --constraint constraints.txt . \
    && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite:////data/bildungslotse.sqlite3 \
    MATRIX_STORE_PATH=/data/matrix-store \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    TELEGRAM_WEBHOOK_LISTEN=0.0.0.0 \
    TELEGRAM_WEBHOOK_PORT=8443
# uid and gid 10001 both: a bind-mounted /data needs `chown 10001:10001` on the host
RUN groupadd --system --gid 10001 bildungslotse \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin bildungslotse \
    && mkdir -p /data && chown bildungslotse:bildungslotse /data && chmod 0700 /data
COPY --from=build /opt/venv /opt/venv
USER bildungslotse
WORKDIR /data
VOLUME ["/data"]
# 8080: /healthz and /metrics (keep it inside your network); 8443: Telegram webhook (behind the reverse proxy)
EXPOSE 8080 8443
# 200 = database, messengers and schedulers fine; 503 (or no answer) = unhealthy
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTTP_PORT', '8080'), timeout=4)"]
ENTRYPOINT ["bildungslotse"]
CMD ["run"]
