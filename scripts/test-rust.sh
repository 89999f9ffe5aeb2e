#!/usr/bin/env bash
# Rust: formatting, lints, unit + integration tests and doctests of every workspace crate.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
