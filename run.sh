#!/usr/bin/env bash
# Article 99's one entry point. It sets up what it needs on a fresh machine
# (Debian packages, a virtualenv with the pinned Python packages), then:
#   ./run.sh app            start the dashboard (streamlit run app.py)
#   ./run.sh test [ARGS]    lint and run the test suite (ARGS go to pytest)
#   ./run.sh setup          only install
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_PACKAGES=(chromium fonts-dejavu-core nginx)
VENV=.venv

install_debian_packages() {
  local missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python_packages() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  local stamp="$VENV/.requirements.sha256"
  local want
  want=$(cat requirements.txt requirements-dev.txt requirements-nodeps.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Installing Python packages into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
      -r requirements-nodeps.txt
    echo "$want" > "$stamp"
  fi
}

setup() {
  install_debian_packages
  install_python_packages
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup) setup ;;
  app)
    setup
    exec "$VENV/bin/streamlit" run app.py "$@"
    ;;
  test)
    setup
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: ./run.sh app | test [pytest args] | setup" >&2
    exit 2
    ;;
esac
