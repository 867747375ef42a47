//! `x64vm-bench`: times guest code in the VM and the same C natively, in one run,
//! and prints the ratio. Not a test: numbers vary with the machine; the ratio is
//! what matters.
//!
//! Usage: `cargo run --release -p x64vm-bench [-- --quick]`

use std::time::{Duration, Instant};

use x64vm::{Config, Instance, NoHost, Status, load_elf};

unsafe extern "C" {
    fn x64vm_native_fib(n: u64) -> u64;
}

const FIB_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/fib.elf"));

/// Minimum and median of `runs` timings of `f`.
fn time(runs: usize, mut f: impl FnMut() -> u64) -> (Duration, Duration, u64) {
    let mut times = Vec::with_capacity(runs);
    let mut last = 0;
    for _ in 0..runs {
        let t = Instant::now();
        last = std::hint::black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[0], times[times.len() / 2], last)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 21 };
    let image = load_elf(FIB_ELF, true).expect("fib.elf loads");
    let entry = image.symbol("fib").expect("fib symbol");
    let config = Config::default();

    println!(
        "{:<10} {:>12} {:>12} {:>12} {:>10} {:>14}",
        "bench", "native min", "vm min", "vm median", "ratio", "guest instrs"
    );
    let ns: &[u64] = if quick {
        &[10, 15, 20]
    } else {
        &[10, 15, 20, 25, 30]
    };
    for &n in ns {
        // SAFETY: x64vm_native_fib is the C function compiled by build.rs from
        // examples/fib/fib.c; it takes and returns a u64 and touches no memory.
        let (nmin, _, nres) = time(runs, || unsafe {
            x64vm_native_fib(std::hint::black_box(n))
        });
        let mut instrs = 0;
        let (vmin, vmed, vres) = time(runs, || {
            let mut inst = Instance::new(&image, &config, &[]).expect("instance");
            inst.prepare_call(entry, &[n]).expect("call");
            let out = inst.run(&mut NoHost);
            assert_eq!(out.status, Status::Success);
            instrs = out.instructions;
            out.rax
        });
        assert_eq!(nres, vres, "VM and native disagree on fib({n})");
        let ratio = vmin.as_secs_f64() / nmin.as_secs_f64().max(1e-9);
        println!(
            "{:<10} {:>12.3?} {:>12.3?} {:>12.3?} {:>9.1}x {:>14}",
            format!("fib({n})"),
            nmin,
            vmin,
            vmed,
            ratio,
            instrs
        );
    }
}
