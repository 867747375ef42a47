#!/usr/bin/env bash
# The local chain, start to finish: build the x64vm command and the example
# token contract (examples/token/c) with the system C compiler, start a fresh
# chain in a temporary directory, deploy the token, send transactions (one of
# them fails on purpose), query it, and print receipts with decoded events,
# the event log and a call trace.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v gcc >/dev/null; then
  echo "installing gcc" >&2
  apt-get update -qq && apt-get install -y -qq gcc >/dev/null
fi
cargo build --release -q -p x64vm-cli
x64vm="$PWD/target/release/x64vm"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export X64VM_DEMO_STATE="$work/state.redb"

# Shows a command as a user would type it, then runs it on the demo's chain.
run() {
  local shown="" a
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./=:-]+$ ]]; then shown+=" $a"; else shown+=" '$a'"; fi
  done
  echo "\$ x64vm$shown"
  "$x64vm" --state "$X64VM_DEMO_STATE" "$@"
  echo
}

echo "\$ gcc -std=c11 -O2 -static -nostdlib -ffreestanding -fno-pie -no-pie -fno-stack-protector \\"
echo "      -I sdk/c/include -o token.elf examples/token/c/token.c -lgcc"
gcc -std=c11 -O2 -static -nostdlib -ffreestanding -fno-pie -no-pie -fno-stack-protector \
  -fno-asynchronous-unwind-tables -I sdk/c/include -o "$work/token.elf" \
  examples/token/c/token.c -lgcc
echo
cd "$work"

run init
run deploy token.elf 'mint("alice", 1000)'
run call token 'transfer("bob", 250)'
run call token 'approve("carol", 100)' --from bob
run call token 'transfer_from("bob", "dave", 40)' --from carol
echo "# more than alice has: the transaction reverts (exit code 1), nothing changes but the fee"
run call token 'transfer("bob", 5000)' || true
run query token 'balance_of("bob")'
run query token 'allowance("bob", "carol")'
run receipt 2
run logs --event Transfer
run trace 4
