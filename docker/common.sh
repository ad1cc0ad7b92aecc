# Sourced by every start script: run from the project root with both import roots on the path.
cd "$(dirname "$0")/.."
APP_DIR="$(pwd)"
export PYTHONPATH="${APP_DIR}:${APP_DIR}/platform${PYTHONPATH:+:${PYTHONPATH}}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-skywatch.settings}"
PYTHON="${PYTHON:-python}"
