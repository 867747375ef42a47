#!/usr/bin/env bash
# Runs every test: the workspace's unit and integration tests (release build, since
# they execute many guest instructions), then the slow sweeps kept behind #[ignore].
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release
cargo test --workspace --release -- --ignored
