#!/usr/bin/env bash
# The main job on a fresh machine: build x64vm and the example token contract,
# start a fresh local chain, deploy, call, query, and print receipts with decoded
# events (scripts/chain-demo.sh); then run the seed's fib(25) contract directly.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/chain-demo.sh
echo "# the seed's benchmark contract, run directly in the VM"
make -s -C examples/fib fib.elf
echo "\$ x64vm run examples/fib/fib.elf --entry fib --arg 25"
./target/release/x64vm run examples/fib/fib.elf --entry fib --arg 25
