#!/usr/bin/env bash
# Runs every test on a fresh Debian machine: installs what the tests need
# (Python OpenTelemetry SDK in a private virtualenv), builds, and runs the
# unit and end-to-end tests. Servers the tests need are started by the tests
# themselves on 127.0.0.1 with free ports and temporary directories.
set -euo pipefail
cd "$(dirname "$0")/.."

# The official OpenTelemetry Python SDK, a real OTLP client for the e2e tests.
venv=target/pyenv
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p target
  python3 -m venv "$venv" || {
    # Debian splits venv out of python3; install it when missing.
    if command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    else
      echo "python3 -m venv failed and apt-get is not available" >&2; exit 1
    fi
  }
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/python/requirements.txt
export SEXTANT_TEST_PYTHON="$PWD/$venv/bin/python"

# Release binary for the e2e tests is built by cargo test itself (debug); the
# benches are compiled (not run) so they cannot rot.
cargo build --workspace --all-targets --quiet
cargo test --workspace --no-fail-fast -- --test-threads=2
