//! The rows beside the kernels (issue 4): entering a cached contract and
//! returning from a trivial function, loading and validating contracts of
//! several sizes, whole-process startup of `x64vm run`, and a storage-heavy
//! token-transfer loop through the contract runtime, against revm.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;

use x64vm::{Config, Instance, load_any};
use x64vm_runtime::abi::{Value, encode_call};
use x64vm_runtime::{Address, TestChain, address_of_name};

use crate::measure::{Budget, Measured, measure};
use crate::report::{CachedCall, Cell, Extras, LoadRow, Startup, TokenLoop};
use crate::{KERNELS_ELF, Options, Vm, check, evm, wasm};

/// The example token contract (examples/token/c), built by build.rs.
const TOKEN_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/token.elf"));

/// A program of the load row.
struct Program {
    name: &'static str,
    elf: &'static [u8],
    /// The same program as a wasm module (empty when there is none).
    wasm: &'static [u8],
    /// Why `wasm` is empty.
    wasm_missing: &'static str,
    /// A function run once to check that the loaded program works, its
    /// argument and its expected result.
    entry: &'static str,
    arg: u64,
    expect: u64,
}

/// The generated programs of build.rs: `gen-<N>.elf`, `.wasm` and `.expect`.
macro_rules! generated {
    ($n:literal) => {
        (
            concat!("gen-", $n),
            include_bytes!(concat!(env!("OUT_DIR"), "/gen-", $n, ".elf")).as_slice(),
            include_bytes!(concat!(env!("OUT_DIR"), "/gen-", $n, ".wasm")).as_slice(),
            include_str!(concat!(env!("OUT_DIR"), "/gen-", $n, ".expect")),
        )
    };
}

fn programs() -> Vec<Program> {
    // SAFETY: bench_fib is the C kernel of bench/c/kernels.c (u64 -> u64).
    let fib20 = unsafe { crate::bench_fib(20) };
    let mut v = vec![Program {
        name: "kernels",
        elf: KERNELS_ELF,
        wasm: wasm::KERNELS_WASM,
        wasm_missing: "no wasm build of the kernels (clang not found at build time)",
        entry: "bench_fib",
        arg: 20,
        expect: fib20,
    }];
    for (name, elf, wasm, expect) in [generated!("256"), generated!("1024"), generated!("4096")] {
        // "<arg> <result>", written by build.rs.
        let mut it = expect.split_whitespace().map(|w| w.parse::<u64>());
        let (Some(Ok(arg)), Some(Ok(expect))) = (it.next(), it.next()) else {
            panic!("malformed {name}.expect");
        };
        v.push(Program {
            name,
            elf,
            wasm,
            wasm_missing: "",
            entry: "gen_main",
            arg,
            expect,
        });
    }
    v
}

/// Measures every extra row.
pub fn run(
    opts: &Options,
    budget: Budget,
    vm: &Vm,
    kernels: &Result<wasm::Kernels, String>,
    progress: bool,
) -> Extras {
    let step = |name: &str| {
        if progress {
            eprint!("{name:<18}\r");
        }
    };
    step("cached call");
    let cached_call = cached_call(budget, vm, kernels);
    step("load");
    let load = programs()
        .iter()
        .map(|p| load_row(budget, p, opts.wasmi_fuel))
        .collect();
    step("startup");
    let startup = startup(budget);
    step("token transfers");
    let token = token_loop(budget, if opts.quick { 100 } else { 1000 });
    if progress {
        eprint!("{:<18}\r", "");
    }
    Extras {
        cached_call,
        load,
        startup,
        token,
    }
}

/// `bench_nop`'s argument: any value; the function returns it.
const NOP_ARG: u64 = 0x0123_4567_89ab_cdef;

fn cached_call(budget: Budget, vm: &Vm, kernels: &Result<wasm::Kernels, String>) -> CachedCall {
    // SAFETY: bench_nop is the C function of bench/c/kernels.c (u64 -> u64).
    let native = measure(budget, || {
        Ok(unsafe { crate::bench_nop(black_box(NOP_ARG)) })
    });
    let want = NOP_ARG;

    // One instance, reused: the first call decodes bench_nop's block; every
    // timed call then resets the instance (undoing the previous call's writes),
    // prepares the call and runs it, as a host does for a cached contract.
    let vm_cells = vm.symbol("bench_nop").and_then(|entry| {
        let mut inst = vm.instance()?;
        Vm::run(&mut inst, entry, NOP_ARG)?;
        let with_reset = measure(budget, || {
            inst.reset(&[]).map_err(|e| e.to_string())?;
            Vm::run(&mut inst, entry, black_box(NOP_ARG)).map(|(r, _)| r)
        });
        let no_reset = measure(budget, || {
            Vm::run(&mut inst, entry, black_box(NOP_ARG)).map(|(r, _)| r)
        });
        Ok((with_reset, no_reset))
    });
    let (x64vm, x64vm_no_reset) = match vm_cells {
        Ok((a, b)) => (check(a, want), check(b, want)),
        Err(e) => (Cell::Failed(e.clone()), Cell::Failed(e)),
    };
    let wasmi = match kernels {
        Ok(k) => check(
            k.instantiate().and_then(|mut inst| {
                let f = inst.kernel("bench_nop")?;
                measure(budget, || inst.call(&f, black_box(NOP_ARG)))
            }),
            want,
        ),
        Err(e) => Cell::Unavailable(e.clone()),
    };
    CachedCall {
        arg: NOP_ARG,
        native: check(native, want),
        x64vm,
        x64vm_no_reset,
        wasmi,
    }
}

/// A timing whose work was checked separately: `verified` is the checked
/// program's result (or why it could not run), `want` the expected one.
fn checked(m: Result<Measured, String>, verified: &Result<u64, String>, want: u64) -> Cell {
    match (m, verified) {
        (Err(e), _) => Cell::Failed(e),
        (_, Err(e)) => Cell::Failed(e.clone()),
        (Ok(_), Ok(got)) if *got != want => Cell::Wrong { got: *got, want },
        (Ok(m), Ok(_)) => Cell::Ok(m),
    }
}

fn load_row(budget: Budget, p: &Program, fuel: bool) -> LoadRow {
    let config = Config::default();
    let load = |bytes: &[u8]| load_any(bytes).map_err(|e| e.to_string());
    // Check once, untimed, that the loaded program runs and computes the
    // expected result (so the timings are of a program that works).
    let vm_verified = load(p.elf).and_then(|image| {
        let entry = image
            .symbol(p.entry)
            .ok_or_else(|| format!("no symbol {}", p.entry))?;
        let config = Config {
            gas_limit: u64::MAX / 2,
            ..Config::default()
        };
        let mut inst = Instance::new(&image, &config, &[]).map_err(|e| e.to_string())?;
        Vm::run(&mut inst, entry, p.arg).map(|(r, _)| r)
    });
    // The result of a timed load: the number of symbols (constant, checked by
    // `measure` on every repetition).
    let load_m = measure(budget, || load(p.elf).map(|i| i.symbols.len() as u64));
    let inst_m = measure(budget, || {
        let image = load(p.elf)?;
        let inst = Instance::new(&image, &config, &[]).map_err(|e| e.to_string())?;
        drop(black_box(inst));
        Ok(image.symbols.len() as u64)
    });
    let wasmi = if p.wasm.is_empty() {
        Cell::Unavailable(p.wasm_missing.into())
    } else {
        let engine = wasm::engine(fuel);
        let verified = wasm::call_once(&engine, fuel, p.wasm, p.entry, p.arg);
        let m = measure(budget, || wasm::compile(&engine, p.wasm));
        checked(m, &verified, p.expect)
    };
    LoadRow {
        name: p.name.into(),
        elf_bytes: p.elf.len() as u64,
        load: checked(load_m, &vm_verified, p.expect),
        instantiate: checked(inst_m, &vm_verified, p.expect),
        wasm_bytes: p.wasm.len() as u64,
        wasmi,
    }
}

/// The `x64vm` binary next to the bench's executable (`target/<profile>/`), or
/// next to its parent directory (the test harness runs from `deps/`).
fn find_cli() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("x64vm"), dir.parent()?.join("x64vm")]
        .into_iter()
        .find(|p| p.is_file())
}

/// The value `x64vm run` printed on its `as u64:` line.
fn run_result(stdout: &[u8]) -> Result<u64, String> {
    let text = String::from_utf8_lossy(stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("as u64:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no `as u64:` line in the output: {}", text.trim()))
}

/// Spawns `cmd` and waits for it; its standard output when it exits with 0.
fn spawn(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// The argument of the `x64vm run --entry bench_nop` whose startup is timed
/// (bench_nop returns it).
const STARTUP_ARG: u64 = 7;
/// The call lines of the `x64vm run` of the token contract whose startup is timed.
const STARTUP_CTOR: &str = r#"mint("alice", 1000)"#;
const STARTUP_CALL: &str = r#"transfer("bob", 100)"#;

/// 1 when the last `output:` line `x64vm run` printed says `true`.
fn call_result(stdout: &[u8]) -> Result<u64, String> {
    let text = String::from_utf8_lossy(stdout);
    match text
        .lines()
        .filter_map(|l| l.strip_prefix("output:"))
        .next_back()
    {
        Some(v) if v.trim() == "true" => Ok(1),
        _ => Err(format!(
            "no `output: true` line in the output: {}",
            text.trim()
        )),
    }
}

/// One `x64vm run` command whose startup is timed.
struct StartupRun {
    /// The file (written to a temporary folder) and its contents.
    file: &'static str,
    bytes: &'static [u8],
    /// The arguments after the file.
    args: Vec<String>,
    /// Reads the result from the standard output.
    parse: fn(&[u8]) -> Result<u64, String>,
    /// The expected result.
    want: u64,
}

fn startup(budget: Budget) -> Startup {
    let runs = [
        StartupRun {
            file: "kernels.elf",
            bytes: KERNELS_ELF,
            args: ["--entry", "bench_nop", "--arg", &STARTUP_ARG.to_string()]
                .map(String::from)
                .to_vec(),
            parse: run_result,
            want: STARTUP_ARG,
        },
        StartupRun {
            file: "token.elf",
            bytes: TOKEN_ELF,
            args: ["--ctor", STARTUP_CTOR, STARTUP_CALL]
                .map(String::from)
                .to_vec(),
            parse: call_result,
            want: 1,
        },
    ];
    let shown = |file: &str, args: &[String]| {
        let quoted: Vec<String> = args
            .iter()
            .map(|a| {
                if a.contains(['(', ' ', '"']) {
                    format!("'{a}'")
                } else {
                    a.clone()
                }
            })
            .collect();
        format!("run {file} {}", quoted.join(" "))
    };
    let floor = check(
        measure(budget, || spawn(&mut Command::new("/bin/true")).map(|_| 0)),
        0,
    );
    let Some(cli) = find_cli() else {
        return Startup {
            binary: None,
            runs: runs
                .iter()
                .map(|r| {
                    (
                        shown(r.file, &r.args),
                        Cell::Unavailable(
                            "build x64vm-cli first (cargo build --release -p x64vm-cli)".into(),
                        ),
                    )
                })
                .collect(),
            floor,
        };
    };
    let dir = std::env::temp_dir().join(format!("x64vm-bench-{}", std::process::id()));
    let mut out = Startup {
        binary: Some(cli.display().to_string()),
        runs: vec![],
        floor,
    };
    for r in runs {
        let path = dir.join(r.file);
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, r.bytes))
            .map_err(|e| format!("cannot write {}: {e}", path.display()));
        let m = written.and_then(|()| {
            measure(budget, || {
                let mut cmd = Command::new(&cli);
                cmd.arg("run").arg(&path).args(&r.args);
                (r.parse)(&spawn(&mut cmd)?)
            })
        });
        out.runs.push((shown(r.file, &r.args), check(m, r.want)));
    }
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// Tokens the holder starts with (both engines).
const SUPPLY: u128 = 1_000_000_000_000;
/// Tokens moved by each transfer.
const AMOUNT: u128 = 1;
/// Gas limit of one x64vm transfer transaction.
const TOKEN_GAS: u64 = 10_000_000;

/// A loop's timing as the time per transfer.
fn per_transfer(m: Measured, transfers: u64) -> Measured {
    let n = u32::try_from(transfers).unwrap_or(u32::MAX).max(1);
    Measured {
        min: m.min / n,
        median: m.median / n,
        ..m
    }
}

/// The cell of a transfer loop: `m` timed loops of `transfers` transfers; after
/// them `balances` are (holder, receiver) and `done` transfers succeeded in all.
fn token_cell(
    m: Result<Measured, String>,
    balances: Result<(u128, u128), String>,
    done: u64,
    transfers: u64,
) -> Cell {
    let moved = u128::from(done) * AMOUNT;
    let want = (SUPPLY - moved, moved);
    match (m, balances) {
        (Err(e), _) | (_, Err(e)) => Cell::Failed(e),
        (Ok(_), Ok(got)) if got != want => {
            // Report the first balance that differs.
            let (g, w) = if got.0 != want.0 {
                (got.0, want.0)
            } else {
                (got.1, want.1)
            };
            Cell::Wrong {
                got: g as u64,
                want: w as u64,
            }
        }
        (Ok(m), Ok(_)) => Cell::Ok(per_transfer(m, transfers)),
    }
}

/// The x64vm side: the C token on the runtime's in-memory chain.
struct VmToken {
    chain: TestChain,
    token: Address,
    holder: Address,
    receiver: Address,
    transfer: Vec<u8>,
}

impl VmToken {
    fn new() -> Result<Self, String> {
        let mut chain = TestChain::new();
        let (token, _) = chain
            .deploy_with(TOKEN_ELF, "alice", &format!("mint(\"alice\", {SUPPLY})"))
            .map_err(|e| e.to_string())?;
        let receiver = address_of_name("bob");
        Ok(VmToken {
            chain,
            token,
            holder: address_of_name("alice"),
            receiver,
            transfer: encode_call(
                "transfer(address,u128)",
                &[Value::Address(receiver), Value::Uint(128, AMOUNT)],
            ),
        })
    }

    /// One committed transaction `transfer(receiver, AMOUNT)`; its gas.
    fn transfer(&mut self) -> Result<u64, String> {
        let r = self
            .chain
            .call_raw(self.token, self.holder, &self.transfer, 0, TOKEN_GAS);
        // Borsh `true`.
        if !r.status.is_success() || r.output != [1] {
            return Err(format!("transfer: {} (output {:?})", r.status, r.output));
        }
        Ok(r.gas_used)
    }

    fn balance_of(&mut self, who: Address) -> Result<u128, String> {
        let input = encode_call("balance_of(address)", &[Value::Address(who)]);
        let r = self.chain.query_raw(self.token, &input);
        if !r.status.is_success() {
            return Err(format!("balance_of: {}", r.status));
        }
        let bytes: [u8; 16] = r
            .output
            .as_slice()
            .try_into()
            .map_err(|_| format!("balance_of returned {} bytes", r.output.len()))?;
        Ok(u128::from_le_bytes(bytes))
    }
}

fn token_loop(budget: Budget, transfers: u64) -> TokenLoop {
    let mut out = TokenLoop {
        transfers,
        ..TokenLoop::default()
    };

    out.x64vm = match VmToken::new() {
        Ok(mut t) => {
            let (mut done, mut gas) = (0u64, 0u64);
            let m = measure(budget, || {
                for _ in 0..transfers {
                    gas = t.transfer()?;
                    done += 1;
                }
                Ok(transfers)
            });
            out.x64vm_gas = m.is_ok().then_some(gas);
            let balances = t
                .balance_of(t.holder)
                .and_then(|h| Ok((h, t.balance_of(t.receiver)?)));
            token_cell(m, balances, done, transfers)
        }
        Err(e) => Cell::Failed(e),
    };

    out.revm = match evm::TokenEvm::new(SUPPLY) {
        Ok(mut t) => {
            let to = revm::primitives::Address::new([0x20; 20]);
            let (mut done, mut gas) = (0u64, 0u64);
            let m = measure(budget, || {
                for _ in 0..transfers {
                    gas = t.transfer(to, AMOUNT)?;
                    done += 1;
                }
                Ok(transfers)
            });
            out.revm_gas = m.is_ok().then_some(gas);
            let balances = t
                .balance_of(evm::TokenEvm::HOLDER)
                .and_then(|h| Ok((h, t.balance_of(to)?)));
            token_cell(m, balances, done, transfers)
        }
        Err(e) => Cell::Failed(e),
    };
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn token_contract_transfers() {
        let mut t = VmToken::new().expect("deploys");
        for _ in 0..3 {
            assert!(t.transfer().expect("transfer") > 0);
        }
        assert_eq!(t.balance_of(t.holder), Ok(SUPPLY - 3 * AMOUNT));
        assert_eq!(t.balance_of(t.receiver), Ok(3 * AMOUNT));
    }

    #[test]
    fn generated_programs_load_and_compute_the_expected_value() {
        for p in programs() {
            let image = load_any(p.elf).expect("loads");
            let entry = image.symbol(p.entry).expect("entry symbol");
            let config = Config {
                gas_limit: u64::MAX / 2,
                ..Config::default()
            };
            let mut inst = Instance::new(&image, &config, &[]).expect("instantiates");
            assert_eq!(Vm::run(&mut inst, entry, p.arg).map(|r| r.0), Ok(p.expect));
            if !p.wasm.is_empty() {
                let engine = wasm::engine(false);
                assert_eq!(
                    wasm::call_once(&engine, false, p.wasm, p.entry, p.arg),
                    Ok(p.expect),
                    "{}",
                    p.name
                );
            }
        }
    }

    #[test]
    fn wrong_balances_are_reported() {
        let m = Measured {
            min: Duration::from_millis(10),
            median: Duration::from_millis(12),
            samples: 3,
            reps: 1,
            result: 10,
        };
        let ok = token_cell(Ok(m), Ok((SUPPLY - 20, 20)), 20, 10);
        let Cell::Ok(per) = ok else {
            panic!("expected Ok, got {ok:?}")
        };
        assert_eq!(per.min, Duration::from_millis(1));
        let wrong = token_cell(Ok(m), Ok((SUPPLY - 20, 19)), 20, 10);
        assert!(matches!(wrong, Cell::Wrong { got: 19, want: 20 }));
    }

    #[test]
    fn run_output_is_parsed() {
        assert_eq!(run_result(b"status:   success\nas u64:   7\n"), Ok(7));
        assert!(run_result(b"status:   reverted\n").is_err());
        assert_eq!(call_result(b"output:   false\noutput:   true\n"), Ok(1));
        assert!(call_result(b"output:   true\noutput:   false\n").is_err());
    }
}
