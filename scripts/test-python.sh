#!/usr/bin/env bash
# Python binding: builds the abi3 wheel with pip (maturin backend, from PyPI), installs it into a
# fresh virtual environment under target/, then runs pytest (bindings-python/tests), mypy
# --strict on the examples and tests against the shipped stubs, and mypy.stubtest on the stubs.
# Needs only Rust and CPython >= 3.10 with venv/pip; no terminal input (CI=true is fine).
# Usage: ./scripts/test-python.sh       (PYTHON=python3.12 ./scripts/test-python.sh to choose)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
python="${PYTHON:-python3}"
venv="$root/target/python-venv"
wheels="$root/target/python-wheels"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

echo "--> fresh virtual environment: $venv"
rm -rf "$venv" "$wheels"
"$python" -m venv "$venv"
py="$venv/bin/python"

echo "--> building the wheel (release; the first build takes a minute or two)"
"$py" -m pip wheel --quiet --no-deps --wheel-dir "$wheels" ./bindings-python
wheel="$(ls "$wheels"/civic_router-*.whl)"
case "$wheel" in
  *-abi3-*) echo "    $(basename "$wheel")" ;;
  *) echo "error: not an abi3 wheel: $wheel" >&2; exit 1 ;;
esac

echo "--> installing the wheel with plain pip, and the test tools"
"$py" -m pip install --quiet "$wheel" pytest mypy

echo "--> pytest"
(cd bindings-python && "$py" -m pytest -q -p no:cacheprovider tests)

echo "--> mypy --strict (examples and tests against the stubs)"
"$py" -m mypy --strict --no-incremental bindings-python/examples bindings-python/tests

echo "--> mypy.stubtest civic_router._native"
(cd "$venv" && "$py" -m mypy.stubtest civic_router._native)

echo "==> python binding: all checks passed"
