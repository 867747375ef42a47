#!/usr/bin/env bash
# The main job: build the x64vm command, build the seed's fib contract with gcc -O2,
# and run fib(25) in the VM.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v gcc >/dev/null; then
  echo "installing gcc" >&2
  apt-get update -qq && apt-get install -y -qq gcc make >/dev/null
fi
cargo build --release -q -p x64vm-cli
make -s -C examples/fib fib.elf
echo "$ x64vm run examples/fib/fib.elf --entry fib --arg 25"
./target/release/x64vm run examples/fib/fib.elf --entry fib --arg 25
