//! `x64vm-bench`: times the same C kernels natively (gcc -O2) and in x64vm, the
//! same C compiled to wasm32 by clang in wasmi, and the seed's Solidity fib in
//! revm, all in one process and one run, and prints the times and the ratios to
//! native. Then the rows beside the kernels (`extra`): a cached call of a
//! trivial function, loading and validating programs of several sizes, the
//! startup of a whole `x64vm run` process, and a token-transfer loop through
//! the contract runtime against a Solidity token in revm. Not a test: times
//! vary with the machine; the ratios are what matter.
//!
//! Usage: `cargo run --release -p x64vm-bench [-- --quick] [--json FILE]
//! [--wasmi-fuel]` (`--json -` writes the JSON to stdout and the table to stderr).

mod evm;
mod extra;
mod measure;
mod report;
mod wasm;

use std::io::IsTerminal;
use std::time::Duration;

use measure::{Budget, Measured, measure};
use report::{Cell, Column, Row};
use x64vm::{Config, Image, Instance, NoHost, Status, load_elf};

unsafe extern "C" {
    fn bench_nop(x: u64) -> u64;
    fn bench_fib(n: u64) -> u64;
    fn bench_sieve(n: u64) -> u64;
    fn bench_sha256(n: u64) -> u64;
    fn bench_qsort(n: u64) -> u64;
    fn bench_memops(n: u64) -> u64;
}

// The same kernels compiled natively by clang -O2 (the wasm build's compiler).
#[cfg(bench_clang_native)]
unsafe extern "C" {
    fn clang_bench_fib(n: u64) -> u64;
    fn clang_bench_sieve(n: u64) -> u64;
    fn clang_bench_sha256(n: u64) -> u64;
    fn clang_bench_qsort(n: u64) -> u64;
    fn clang_bench_memops(n: u64) -> u64;
}

const KERNELS_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kernels.elf"));

/// A kernel of bench/c/kernels.c.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    Fib,
    Sieve,
    Sha256,
    Qsort,
    Memops,
}

impl Kernel {
    /// Its symbol in the ELF and its export in the wasm module.
    fn symbol(self) -> &'static str {
        match self {
            Kernel::Fib => "bench_fib",
            Kernel::Sieve => "bench_sieve",
            Kernel::Sha256 => "bench_sha256",
            Kernel::Qsort => "bench_qsort",
            Kernel::Memops => "bench_memops",
        }
    }

    /// The natively compiled function.
    fn native(self) -> unsafe extern "C" fn(u64) -> u64 {
        match self {
            Kernel::Fib => bench_fib,
            Kernel::Sieve => bench_sieve,
            Kernel::Sha256 => bench_sha256,
            Kernel::Qsort => bench_qsort,
            Kernel::Memops => bench_memops,
        }
    }

    /// The function compiled natively by clang, when clang was found.
    #[cfg(bench_clang_native)]
    fn native_clang(self) -> Option<unsafe extern "C" fn(u64) -> u64> {
        Some(match self {
            Kernel::Fib => clang_bench_fib,
            Kernel::Sieve => clang_bench_sieve,
            Kernel::Sha256 => clang_bench_sha256,
            Kernel::Qsort => clang_bench_qsort,
            Kernel::Memops => clang_bench_memops,
        })
    }

    #[cfg(not(bench_clang_native))]
    fn native_clang(self) -> Option<unsafe extern "C" fn(u64) -> u64> {
        None
    }
}

/// One row of the table: a kernel and its argument.
struct Case {
    name: String,
    kernel: Kernel,
    arg: u64,
}

const USAGE: &str = "usage: x64vm-bench [--quick] [--json FILE|-] [--wasmi-fuel]";

/// Command-line options.
struct Options {
    quick: bool,
    json: Option<String>,
    wasmi_fuel: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        quick: false,
        json: None,
        wasmi_fuel: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => opts.quick = true,
            "--wasmi-fuel" => opts.wasmi_fuel = true,
            "--json" => opts.json = Some(args.next().ok_or("--json needs a file (or -)")?),
            // `cargo bench` passes --bench; ignore it.
            "--bench" => {}
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(opts)
}

fn cases(quick: bool) -> Vec<Case> {
    let case = |name: String, kernel, arg| Case { name, kernel, arg };
    let mut cases = vec![];
    let fibs: &[u64] = if quick {
        &[10, 15, 20]
    } else {
        &[10, 15, 20, 25, 30]
    };
    for &n in fibs {
        cases.push(case(format!("fib({n})"), Kernel::Fib, n));
    }
    let (scale, suffix) = if quick { (10, "/10") } else { (1, "") };
    let sized = |base: &str| format!("{base}{suffix}");
    cases.push(case(sized("sieve(1e6)"), Kernel::Sieve, 1_000_000 / scale));
    cases.push(case(
        sized("sha256(1MiB)"),
        Kernel::Sha256,
        (1 << 20) / scale,
    ));
    cases.push(case(sized("qsort(1e5)"), Kernel::Qsort, 100_000 / scale));
    cases.push(case(sized("memops(2000)"), Kernel::Memops, 2000 / scale));
    cases
}

/// The VM side: the kernels ELF, loaded and validated once.
struct Vm {
    image: Image,
    config: Config,
}

impl Vm {
    fn entry(&self, c: &Case) -> Result<u64, String> {
        self.symbol(c.kernel.symbol())
    }

    fn symbol(&self, name: &str) -> Result<u64, String> {
        self.image
            .symbol(name)
            .ok_or_else(|| format!("no symbol {name}"))
    }

    /// Runs one prepared call; the result and the instructions retired.
    fn run(inst: &mut Instance, entry: u64, arg: u64) -> Result<(u64, u64), String> {
        inst.prepare_call(entry, &[arg])
            .map_err(|t| t.to_string())?;
        let out = inst.run(&mut NoHost);
        match out.status {
            Status::Success => Ok((out.rax, out.instructions)),
            Status::Reverted => Err("reverted".into()),
            Status::Trapped(t) => Err(t.to_string()),
        }
    }

    fn instance(&self) -> Result<Instance, String> {
        Instance::new(&self.image, &self.config, &[]).map_err(|e| e.to_string())
    }
}

/// Turns a measurement into a cell, checking its result against native's.
fn check(m: Result<Measured, String>, want: u64) -> Cell {
    match m {
        Ok(m) if m.result == want => Cell::Ok(m),
        Ok(m) => Cell::Wrong {
            got: m.result,
            want,
        },
        Err(e) => Cell::Failed(e),
    }
}

fn main() {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let budget = if opts.quick {
        Budget {
            runs: 5,
            max_time: Duration::from_secs(1),
        }
    } else {
        Budget {
            runs: 15,
            max_time: Duration::from_secs(20),
        }
    };
    let vm = Vm {
        image: load_elf(KERNELS_ELF, true).expect("kernels.elf loads"),
        config: Config {
            gas_limit: u64::MAX / 2,
            ..Config::default()
        },
    };
    let wasm = wasm::Kernels::load(opts.wasmi_fuel);
    let revm_external = evm::Deployed::new(evm::EXTERNAL);
    let revm_internal = evm::Deployed::new(evm::INTERNAL);
    let mut revm = [revm_external, revm_internal];

    let progress = std::io::stderr().is_terminal();
    let mut rows = vec![];
    for c in cases(opts.quick) {
        if progress {
            eprint!("{:<18}\r", c.name);
        }
        rows.push(run_case(&c, &opts, budget, &vm, &wasm, &mut revm));
    }
    if progress {
        eprint!("{:<18}\r", "");
    }

    // Instantiation alone (new instance, then drop it): the fixed cost in the
    // "new instance + call" columns.
    let vm_new = check(measure(budget, || vm.instance().map(|_| 0)), 0);
    let wasmi_new = match &wasm {
        Ok(k) => check(measure(budget, || k.instantiate().map(|_| 0)), 0),
        Err(e) => Cell::Unavailable(e.clone()),
    };
    let extras = extra::run(&opts, budget, &vm, &wasm, progress);
    let mut meta = report::Meta::collect(&opts, budget);
    meta.instantiate = [vm_new, wasmi_new];
    let json_to_stdout = opts.json.as_deref() == Some("-");
    let table = report::table(&meta, &rows, &extras);
    if json_to_stdout {
        eprint!("{table}");
    } else {
        print!("{table}");
    }
    if let Some(path) = &opts.json {
        let json = report::json(&meta, &rows, &extras);
        if json_to_stdout {
            print!("{json}");
        } else if let Err(e) = std::fs::write(path, json) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(2);
        }
    }
    if rows
        .iter()
        .any(|r| r.cells.iter().any(|c| matches!(c, Cell::Wrong { .. })))
    {
        eprintln!("some engine computed a different result than native code");
        std::process::exit(1);
    }
    if extras
        .cells()
        .iter()
        .any(|c| matches!(c, Cell::Wrong { .. }))
    {
        eprintln!("some engine computed a wrong result in the extra rows");
        std::process::exit(1);
    }
}

/// Measures one case on every engine.
fn run_case(
    c: &Case,
    opts: &Options,
    budget: Budget,
    vm: &Vm,
    wasm: &Result<wasm::Kernels, String>,
    revm: &mut [Result<evm::Deployed, String>; 2],
) -> Row {
    let mut row = Row::new(&c.name, c.kernel.symbol(), c.arg);
    let native = c.kernel.native();
    // SAFETY: each `native` is a C function from bench/c/kernels.c compiled by
    // build.rs; it takes and returns a u64 and touches only its own static buffer.
    let nat = measure(budget, || {
        Ok(unsafe { native(std::hint::black_box(c.arg)) })
    });
    let want = nat.as_ref().map(|m| m.result).expect("native never fails");
    row.set(Column::Native, check(nat, want));
    row.set(
        Column::NativeClang,
        match c.kernel.native_clang() {
            // SAFETY: as above, the same source compiled by clang.
            Some(f) => check(
                measure(budget, || Ok(unsafe { f(std::hint::black_box(c.arg)) })),
                want,
            ),
            None => Cell::Unavailable("clang was not found at build time".into()),
        },
    );

    // x64vm: a fresh instance per call (lay out memory, decode blocks, run), and
    // the call alone on one instance whose decoded blocks are cached.
    let vm_cells = vm.entry(c).and_then(|entry| {
        let fresh = measure(budget, || {
            let mut inst = vm.instance()?;
            Vm::run(&mut inst, entry, c.arg).map(|(r, _)| r)
        });
        let mut inst = vm.instance()?;
        let (_, instrs) = Vm::run(&mut inst, entry, c.arg)?;
        row.vm_instructions = Some(instrs);
        let call = measure(budget, || Vm::run(&mut inst, entry, c.arg).map(|(r, _)| r));
        Ok((fresh, call))
    });
    match vm_cells {
        Ok((fresh, call)) => {
            row.set(Column::X64vm, check(fresh, want));
            row.set(Column::X64vmCall, check(call, want));
        }
        Err(e) => {
            row.set(Column::X64vm, Cell::Failed(e.clone()));
            row.set(Column::X64vmCall, Cell::Failed(e));
        }
    }

    // wasmi: a fresh store and instance per call, and the call alone.
    match wasm {
        Ok(k) => {
            let symbol = c.kernel.symbol();
            let fresh = measure(budget, || {
                let mut inst = k.instantiate()?;
                let f = inst.kernel(symbol)?;
                inst.call(&f, c.arg)
            });
            row.set(Column::Wasmi, check(fresh, want));
            let call = k.instantiate().and_then(|mut inst| {
                let f = inst.kernel(symbol)?;
                measure(budget, || inst.call(&f, c.arg))
            });
            row.set(Column::WasmiCall, check(call, want));
        }
        Err(e) => {
            row.set(Column::Wasmi, Cell::Unavailable(e.clone()));
            row.set(Column::WasmiCall, Cell::Unavailable(e.clone()));
        }
    }

    // revm: fib only; the external-call variant only up to fib(20) in --quick.
    if c.kernel == Kernel::Fib {
        for (i, col) in [Column::RevmExternal, Column::RevmInternal]
            .into_iter()
            .enumerate()
        {
            if opts.quick && col == Column::RevmExternal && c.arg > 20 {
                continue;
            }
            let cell = match &mut revm[i] {
                Ok(d) => {
                    let mut gas = 0;
                    let m = measure(budget, || {
                        d.fib(c.arg).map(|(r, g)| {
                            gas = g;
                            r
                        })
                    });
                    row.revm_gas[i] = m.is_ok().then_some(gas);
                    check(m, want)
                }
                Err(e) => Cell::Failed(e.clone()),
            };
            row.set(col, cell);
        }
    }
    row
}
