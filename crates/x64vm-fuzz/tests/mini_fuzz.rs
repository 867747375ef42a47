//! The stable "mini-fuzzer": every target body runs on its committed corpus and
//! then on mutants of it (bit flips, boundary values, splices... see
//! `x64vm_fuzz::mutate`), from fixed seeds, so each CI run exercises the same
//! few thousand inputs per target in a few seconds. `sweep` (ignored) runs many
//! more from other seeds. `X64VM_FUZZ_ITERS` overrides the per-target count.
//!
//! A panic saves the input under `target/tmp/x64vm-fuzz-crashes/` and names it;
//! add it to `fuzz/corpus/<target>/` once fixed, so that the replay keeps it.

use std::path::PathBuf;
use std::time::Instant;

use x64vm_fuzz::{corpus, mini_fuzz};

fn crash_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("x64vm-fuzz-crashes")
}

/// Runs `name` on its corpus plus `iterations` mutants from each seed.
fn fuzz(name: &str, seeds: &[u64], iterations: u64, max_len: usize) -> u64 {
    let iterations = std::env::var("X64VM_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(iterations);
    let target = x64vm_fuzz::target(name).expect("known target");
    let inputs: Vec<Vec<u8>> = corpus::load(name).into_iter().map(|(_, b)| b).collect();
    let start = Instant::now();
    let mut executions = 0;
    for &seed in seeds {
        let stats = mini_fuzz(
            name,
            target,
            &inputs,
            seed,
            iterations,
            max_len,
            &crash_dir(),
        );
        executions += stats.executions;
    }
    eprintln!(
        "{name}: {executions} executions ({} corpus files, {} seeds x {iterations} mutants) in {:.2?}",
        inputs.len(),
        seeds.len(),
        start.elapsed()
    );
    executions
}

#[test]
fn mini_fuzz_elf_load() {
    fuzz("elf_load", &[1], 8000, 64 << 10);
}

#[test]
fn mini_fuzz_packed_load() {
    fuzz("packed_load", &[2], 8000, 64 << 10);
}

#[test]
fn mini_fuzz_translate() {
    fuzz("translate", &[3], 1500, 4096);
}

#[test]
fn mini_fuzz_exec() {
    fuzz("exec", &[4], 6000, 4096);
}

#[test]
fn mini_fuzz_host_calls() {
    fuzz("host_calls", &[5], 2000, 4096);
}

#[test]
fn mini_fuzz_linux_syscalls() {
    fuzz("linux_syscalls", &[6], 3000, 4096);
}

#[test]
fn mini_fuzz_call_line() {
    fuzz("call_line", &[7], 20_000, 1024);
}

#[test]
fn mini_fuzz_abi_text() {
    fuzz("abi_text", &[8], 20_000, 8192);
}

/// The larger sweep: 16 seeds per target. Prints the executions per target.
#[test]
#[ignore = "slow: the large mini-fuzz sweep (minutes)"]
fn sweep() {
    let seeds: Vec<u64> = (1..=16u64)
        .map(|s| s.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .collect();
    let mut total = 0;
    for (name, _) in x64vm_fuzz::TARGETS {
        let max_len = if name.ends_with("load") {
            64 << 10
        } else {
            4096
        };
        total += fuzz(name, &seeds, 20_000, max_len);
    }
    eprintln!("sweep: {total} executions in total");
}

#[test]
fn mini_fuzz_echo_load() {
    fuzz("echo_load", &[9], 3000, 16 << 10);
}

#[test]
fn mini_fuzz_jit() {
    fuzz("jit", &[10], 3000, 4096);
}
