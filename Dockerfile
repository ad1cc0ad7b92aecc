# syntax=docker/dockerfile:1
# One image for every role: `web` (default), `worker`, `beat`, `migrate` (see docker/entrypoint).

# --- builder: the locked dependencies in a virtualenv -------------------------------------
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-deps -r /tmp/requirements.txt \
    && /opt/venv/bin/pip check

# --- runtime: the virtualenv, the code, collected static files, a non-root user -----------
FROM python:3.11-slim AS runtime
ARG SKYWATCH_RELEASE=""
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app:/app/platform \
    DJANGO_ENV=prod \
    PORT=8000 \
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
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint"]
CMD ["web"]
