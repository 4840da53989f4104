#!/usr/bin/env bash
# Sets up a fresh machine for tfgen: the offline datasets from Debian (where
# apt-get is available), a virtual environment in .venv, and tfgen itself
# with its test extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1; then
  need=()
  [ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
  [ -d /usr/share/asterisk/sounds/en_US_f_Allison ] || need+=(asterisk-core-sounds-en-wav)
  [ -d /usr/share/games/fortunes ] || need+=(fortunes)
  [ -d /usr/share/icons/oxygen/base/32x32 ] || need+=(oxygen-icon-theme)
  if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi
    echo "setup: installing ${need[*]} with apt-get"
    if ! { $sudo apt-get update -qq && \
           DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"; } >/dev/null; then
      echo "setup: warning: could not install ${need[*]}; tfgen will try TFDS downloads instead" >&2
    fi
  fi
fi

python=python3
command -v python3.11 >/dev/null 2>&1 && python=python3.11
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1 \
  | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import tfgen, tensorflow, tensorflow_probability, tf_keras" 2>/dev/null \
  || { echo "setup: tfgen did not install; see the pip output above" >&2; exit 1; }
echo "setup: ready (.venv)"
