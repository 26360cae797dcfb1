#!/usr/bin/env bash
# Runs every test on a fresh Debian machine: installs what the tests need
# (Python OpenTelemetry SDK in a private virtualenv), builds, and runs the
# unit and end-to-end tests. Servers the tests need are started by the tests
# themselves on 127.0.0.1 with free ports and temporary directories.
set -euo pipefail
cd "$(dirname "$0")/.."
# A fresh machine builds once: incremental caches would only cost disk
# (tens of GB across the test binaries) and buy nothing.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Real peers the tests start themselves (on 127.0.0.1, free ports, temp dirs):
# MariaDB for the MySQL checks, openssl for test certificates, Prometheus and
# promtool for compatibility, mysqld_exporter to compare MySQL metrics with,
# PostgreSQL and Redis for their checks. Installed from Debian when missing.
need=()
command -v mariadbd >/dev/null || command -v mysqld >/dev/null || need+=(mariadb-server)
command -v openssl >/dev/null || need+=(openssl)
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-mysqld-exporter >/dev/null || need+=(prometheus-mysqld-exporter)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v python3 >/dev/null || need+=(python3 python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "missing ${need[*]} and no apt-get to install them" >&2; exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts packaged servers on install; the tests run their own.
for svc in mariadb prometheus prometheus-mysqld-exporter postgresql redis-server; do
  if command -v service >/dev/null; then service "$svc" stop >/dev/null 2>&1 || true; fi
done

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

# The e2e tests run the debug binary cargo test builds, and the hardening
# tests (peak memory, latency under load) the release one built here; the
# benches are compiled (not run) so they cannot rot.
cargo build --workspace --all-targets --quiet
cargo build --release --bin sextant --quiet
cargo test --workspace --no-fail-fast -- --test-threads=2
# Latency under load, alone so no other test's servers share the cores.
cargo test --test e2e query_load -- --ignored --exact query_load::heavy_queries_leave_probes_and_ingest_responsive
