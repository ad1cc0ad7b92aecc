# Sourced by every start script: run from the project root with both import roots on the path.
cd "$(dirname "$0")/.."
APP_DIR="$(pwd)"
export PYTHONPATH="${APP_DIR}:${APP_DIR}/platform${PYTHONPATH:+:${PYTHONPATH}}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-skywatch.settings}"
PYTHON="${PYTHON:-python}"

# Metrics (docs/OPERATIONS.md): with METRICS_PORT set, the role's processes record into
# PROMETHEUS_MULTIPROC_DIR (emptied first: a restarted container starts from zero) and an
# exporter beside them serves the sum on that port; it leaves when the role exits.
start_metrics() {
  [ -n "${METRICS_PORT:-}" ] || return 0
  PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/skywatch-metrics}"
  export PROMETHEUS_MULTIPROC_DIR
  mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
  find "${PROMETHEUS_MULTIPROC_DIR}" -maxdepth 1 -name '*.db' -type f -delete
  "${PYTHON}" -m skywatch.metrics_exporter --role "$1" --port "${METRICS_PORT}" \
    --addr "${METRICS_ADDR:-0.0.0.0}" &
}
