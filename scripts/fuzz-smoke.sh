#!/usr/bin/env bash
# Runs each libFuzzer target of fuzz/ for a bounded time, starting from a copy of
# its committed corpus (fuzz/corpus/<target>/), when a nightly toolchain works.
# Without one it says so and exits 0: the same target bodies always run on stable
# as tests (crates/x64vm-fuzz: corpus replay + mini-fuzzer).
#
# Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default $FUZZ_SECONDS or 20
#   TARGET              default: every [[bin]] of fuzz/Cargo.toml (elf_load,
#                       packed_load, translate, exec, host_calls, linux_syscalls,
#                       call_line, abi_text, echo_load, jit)
# Environment:
#   FUZZ_ASAN=1         also build with AddressSanitizer (slower, finds more)
#   FUZZ_KEEP=1         keep the grown corpora (printed at the end)
#   CARGO_TARGET_DIR    where the binaries are built (default fuzz/target)
#
# Uses `cargo fuzz` when installed; otherwise builds the same instrumented
# binaries with plain `cargo +nightly build`. A crash fails the script; the input
# is left in fuzz/artifacts/<target>/ and should become a regression file in
# fuzz/corpus/<target>/ (replayed by `cargo test -p x64vm-fuzz`).
set -euo pipefail

secs=${1:-${FUZZ_SECONDS:-20}}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz-smoke: no nightly toolchain (cargo +nightly does not run): skipping libFuzzer runs"
    echo "fuzz-smoke: the corpus replay and mini-fuzzer run on stable: cargo test -p x64vm-fuzz"
    exit 0
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(sed -n 's/^name = "\([a-z_]*\)"$/\1/p' "$fuzz/Cargo.toml" | grep -v '^x64vm')
fi

triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
flags+=" -Cllvm-args=-sanitizer-coverage-pc-table"
flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares"
flags+=" --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
if [ "${FUZZ_ASAN:-0}" = 1 ]; then
    flags+=" -Zsanitizer=address"
fi

echo "fuzz-smoke: building ${#targets[@]} targets ($(cargo +nightly --version))"
if cargo +nightly fuzz --version >/dev/null 2>&1; then
    sanitizer=none
    [ "${FUZZ_ASAN:-0}" = 1 ] && sanitizer=address
    (cd "$fuzz" && cargo +nightly fuzz build -O --debug-assertions -s "$sanitizer")
else
    # Explicit --target keeps the instrumentation off build scripts and proc macros.
    RUSTFLAGS="$flags" cargo +nightly build --release --manifest-path "$fuzz/Cargo.toml" \
        --target "$triple" --bins
fi
bindir="${CARGO_TARGET_DIR:-$fuzz/target}/$triple/release"

work=$(mktemp -d)
trap '[ "${FUZZ_KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
total=0
status=0
for t in "${targets[@]}"; do
    bin="$bindir/$t"
    if [ ! -x "$bin" ]; then
        echo "fuzz-smoke: $t: no binary at $bin" >&2
        status=1
        continue
    fi
    mkdir -p "$work/$t" "$fuzz/artifacts/$t"
    if [ -d "$fuzz/corpus/$t" ]; then
        cp -r "$fuzz/corpus/$t/." "$work/$t/"
    fi
    before=$(find "$work/$t" -type f | wc -l)
    log="$work/$t.log"
    if "$bin" "$work/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$fuzz/artifacts/$t/" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        after=$(find "$work/$t" -type f | wc -l)
        echo "fuzz-smoke: $t: ${runs:-?} executions in ${secs}s, corpus $before -> $after, no crash"
        total=$((total + ${runs:-0}))
    else
        echo "fuzz-smoke: $t: FAILED (crash, leak, timeout or OOM); last lines of its log:" >&2
        tail -40 "$log" >&2
        status=1
    fi
done
echo "fuzz-smoke: $total executions in total"
[ "${FUZZ_KEEP:-0}" = 1 ] && echo "fuzz-smoke: grown corpora kept in $work"
exit $status
