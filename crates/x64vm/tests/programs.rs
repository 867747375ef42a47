//! Whole-program tests: real programs, built at test time with the system gcc and
//! the host rustc, run in the VM and compared with the same source run natively.
//!
//! Every C program in `tests/programs/` is compiled at -O0, -O1, -O2, -O3 and -Os,
//! each both as a static non-PIE executable and as a static PIE, with and without
//! `endbr64` (-fcf-protection) in alternating builds. The expected result is never
//! written down: the same source is compiled natively (with `native_main.c`, which
//! serves the host calls with libc) and run. Every build runs twice in fresh
//! instances, and the two outcomes (including gas) must be identical.
//!
//! The Rust program (`rust_prog.rs`, `#![no_std]` with `alloc`) is compared with the
//! very same computation (`rust_compute.rs`) compiled into this test.
//!
//! To debug a failure, the message names the ELF file (kept on failure) and the
//! `x64vm run ... --trace` command that reproduces it.

extern crate alloc;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::thread;

use x64vm::{Config, Instance, NoHost, Outcome, Status, load_elf};

#[allow(dead_code)]
mod rust_compute {
    include!("../../../tests/programs/rust_compute.rs");
}

/// The sources: `tests/programs/` at the workspace root.
fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/programs")
}

/// A fresh directory for one test's build outputs (per process, so concurrent test
/// runs sharing the target directory do not collide).
fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("programs")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Runs a command; its stdout, or a message with its stderr.
fn output_of(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// Checks once that `tool --version` runs, with a clear message when it does not.
fn require(tool: &'static str, install: &str, cell: &'static OnceLock<Result<(), String>>) {
    let status = cell.get_or_init(|| {
        output_of(Command::new(tool).arg("--version"))
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "`{tool}` is needed to build the whole-program tests and could not be run \
                 ({install}): {e}"
                )
            })
    });
    if let Err(e) = status {
        panic!("{e}");
    }
}

fn gcc() -> &'static str {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    require(
        "gcc",
        "install it, e.g. `apt-get install gcc libc6-dev`",
        &CHECK,
    );
    "gcc"
}

fn rustc() -> &'static str {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    require(
        "rustc",
        "install a Rust toolchain or put `rustc` on PATH",
        &CHECK,
    );
    "rustc"
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex from the native run"))
        .collect()
}

/// What a run must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    rax: u64,
    /// The output set with `output`, or `None` when the program never set one.
    output: Option<Vec<u8>>,
    debug: Vec<u8>,
}

/// One executable to run in the VM.
#[derive(Debug)]
struct Build {
    /// e.g. `-O2 static-pie cet`.
    label: String,
    path: PathBuf,
    pie: bool,
    cet: bool,
}

/// Runs `entry(arg)` in a fresh instance, twice, and checks the two outcomes agree.
fn run_twice(elf: &[u8], arg: u64, input: &[u8]) -> Result<Outcome, String> {
    let image = load_elf(elf, true).map_err(|e| format!("load_elf: {e}"))?;
    let entry = image.symbol("run").ok_or("no `run` symbol")?;
    let once = || -> Result<Outcome, String> {
        let mut inst = Instance::new(&image, &Config::default(), input)
            .map_err(|e| format!("Instance::new: {e}"))?;
        inst.prepare_call(entry, &[arg])
            .map_err(|e| format!("prepare_call: {e}"))?;
        Ok(inst.run(&mut NoHost))
    };
    let first = once()?;
    let second = once()?;
    if first != second {
        return Err(format!(
            "not deterministic: two fresh runs differ\n first: {:?} gas {} rax {:#x}\nsecond: {:?} \
             gas {} rax {:#x}",
            first.status, first.gas_used, first.rax, second.status, second.gas_used, second.rax
        ));
    }
    Ok(first)
}

/// Compares a VM outcome with the expected one.
fn check_outcome(out: &Outcome, want: &Expected) -> Result<(), String> {
    if out.status != Status::Success {
        let trap = match &out.status {
            Status::Trapped(t) => t.to_string(),
            s => s.name().to_string(),
        };
        return Err(format!("status {}: {trap}", out.status.name()));
    }
    let mut problems = Vec::new();
    if out.rax != want.rax {
        problems.push(format!("rax {:#x}, native {:#x}", out.rax, want.rax));
    }
    match &want.output {
        Some(o) if !out.output_set || &out.output != o => problems.push(format!(
            "output {}{}, native {}",
            hex(&out.output),
            if out.output_set { "" } else { " (never set)" },
            hex(o)
        )),
        None if out.output_set => problems.push(format!(
            "output set to {}, natively never",
            hex(&out.output)
        )),
        _ => {}
    }
    if out.debug != want.debug {
        problems.push(format!(
            "debug {:?}, native {:?}",
            String::from_utf8_lossy(&out.debug),
            String::from_utf8_lossy(&want.debug)
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Checks the build is the kind of executable it is meant to be.
fn check_kind(elf: &[u8], build: &Build) -> Result<(), String> {
    const ET_EXEC: u8 = 2;
    const ET_DYN: u8 = 3;
    let e_type = elf.get(16).copied().unwrap_or(0);
    let want = if build.pie { ET_DYN } else { ET_EXEC };
    if e_type != want {
        return Err(format!("ELF type {e_type}, expected {want}"));
    }
    const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];
    if build.cet && !elf.windows(4).any(|w| w == ENDBR64) {
        return Err("built with -fcf-protection=full but contains no endbr64".into());
    }
    Ok(())
}

/// Runs every build and reports all mismatches at once. Keeps `dir` on failure.
fn check_builds(name: &str, dir: &Path, builds: &[Build], arg: u64, input: &[u8], want: &Expected) {
    let mut failures = Vec::new();
    for b in builds {
        let result = std::fs::read(&b.path)
            .map_err(|e| format!("{}: {e}", b.path.display()))
            .and_then(|elf| {
                check_kind(&elf, b)?;
                let out = run_twice(&elf, arg, input)?;
                check_outcome(&out, want)
            });
        if let Err(e) = result {
            let input_flag = if input.is_empty() {
                String::new()
            } else {
                format!(" --input {}", hex(input))
            };
            failures.push(format!(
                "{name} [{}]: {e}\n    reproduce: cargo run --release -p x64vm-cli -- run {} \
                 --entry run --arg {arg}{input_flag} --trace",
                b.label,
                b.path.display()
            ));
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} of {} builds of {name} disagree with the native run ({want:?}):\n{}",
            failures.len(),
            builds.len(),
            failures.join("\n")
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Flags of every guest build: freestanding, no libc.
const GCC_GUEST_FLAGS: &[&str] = &[
    "-std=gnu11",
    "-nostdlib",
    "-ffreestanding",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-Wall",
];

/// Which registers the compiler may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Regs {
    /// `-mgeneral-regs-only`: no SSE or x87 anywhere.
    General,
    /// SSE2 for the program's own intrinsics, but no auto-vectorisation.
    Sse2Intrinsics,
}

impl Regs {
    fn flags(self) -> &'static [&'static str] {
        match self {
            Regs::General => &["-mgeneral-regs-only"],
            Regs::Sse2Intrinsics => &["-msse2", "-fno-tree-vectorize"],
        }
    }
}

const GCC_OPT_LEVELS: [&str; 5] = ["-O0", "-O1", "-O2", "-O3", "-Os"];

/// Builds `name.c` in every configuration, plus the native reference, in parallel.
fn build_c(name: &str, dir: &Path, regs: Regs) -> (Vec<Build>, PathBuf) {
    let gcc = gcc();
    let src = src_dir().join(format!("{name}.c"));
    let native = dir.join(format!("{name}.native"));
    let mut builds = Vec::new();
    for (k, opt) in GCC_OPT_LEVELS.iter().enumerate() {
        for pie in [false, true] {
            // endbr64 in every other build, so each level and link mode gets both.
            let cet = (k + usize::from(pie)) & 1 == 0;
            let label = format!(
                "{opt} {}{}",
                if pie { "static-pie" } else { "static" },
                if cet { " cet" } else { "" }
            );
            let file = format!(
                "{name}{opt}{}{}.elf",
                if pie { "-pie" } else { "" },
                if cet { "-cet" } else { "" }
            );
            builds.push(Build {
                label,
                path: dir.join(file),
                pie,
                cet,
            });
        }
    }
    thread::scope(|s| {
        let mut jobs = Vec::new();
        for (k, b) in builds.iter().enumerate() {
            let src = &src;
            jobs.push(s.spawn(move || {
                let mut cmd = Command::new(gcc);
                cmd.arg(GCC_OPT_LEVELS[k / 2])
                    .args(GCC_GUEST_FLAGS)
                    .args(regs.flags());
                if b.pie {
                    cmd.args(["-static-pie", "-fpie"]);
                } else {
                    cmd.args(["-static", "-fno-pie", "-no-pie"]);
                }
                cmd.arg(if b.cet {
                    "-fcf-protection=full"
                } else {
                    "-fcf-protection=none"
                });
                // libgcc after the source: __udivti3 and friends for __int128.
                cmd.arg("-o").arg(&b.path).arg(src).arg("-lgcc");
                output_of(&mut cmd).map(|_| ())
            }));
        }
        let native_job = s.spawn(|| {
            let mut cmd = Command::new(gcc);
            cmd.args(["-std=gnu11", "-O1", "-DX64VM_NATIVE", "-o"])
                .arg(&native)
                .arg(&src)
                .arg(src_dir().join("native_main.c"));
            output_of(&mut cmd).map(|_| ())
        });
        for j in jobs {
            j.join()
                .expect("compile thread")
                .unwrap_or_else(|e| panic!("{e}"));
        }
        native_job
            .join()
            .expect("compile thread")
            .unwrap_or_else(|e| {
                panic!("native reference build (needs the libc headers, e.g. libc6-dev): {e}")
            });
    });
    (builds, native)
}

/// Runs the native build and parses what it printed.
fn run_native(native: &Path, arg: u64, input: &[u8]) -> Expected {
    let mut cmd = Command::new(native);
    cmd.arg(arg.to_string());
    if !input.is_empty() {
        cmd.arg(hex(input));
    }
    let stdout = output_of(&mut cmd).unwrap_or_else(|e| panic!("native reference run: {e}"));
    let text = String::from_utf8(stdout).expect("native output is text");
    let field = |key: &str| -> &str {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ').or(Some("")))
            .unwrap_or_else(|| panic!("native run printed no `{key}` line:\n{text}"))
            .trim()
    };
    Expected {
        rax: field("rax").parse().expect("rax is a number"),
        output: match field("output") {
            "-" => None,
            h => Some(unhex(h)),
        },
        debug: unhex(field("debug")),
    }
}

/// The whole check for one C program.
fn check_c(name: &str, arg: u64, input: &[u8]) {
    check_c_with(name, arg, input, Regs::General);
}

fn check_c_with(name: &str, arg: u64, input: &[u8], regs: Regs) {
    gcc();
    let dir = work_dir(name);
    let (builds, native) = build_c(name, &dir, regs);
    let want = run_native(&native, arg, input);
    check_builds(name, &dir, &builds, arg, input, &want);
}

#[test]
fn fib() {
    check_c("fib", 20, b"");
}

#[test]
fn sieve() {
    check_c("sieve", 100_000, b"");
}

#[test]
fn quicksort() {
    check_c("quicksort", 0x1234_5678, b"");
}

#[test]
fn sha256() {
    check_c("sha256", 3, b"");
}

#[test]
fn strings() {
    check_c("strings", 7, b"");
}

#[test]
fn int128() {
    check_c("int128", 99, b"");
}

#[test]
fn switch() {
    check_c("switch", 500, b"");
}

#[test]
fn callbacks() {
    check_c("callbacks", 42, b"");
}

#[test]
fn bits() {
    check_c("bits", 5, b"");
}

#[test]
fn structs() {
    check_c("structs", 77, b"");
}

#[test]
fn heap() {
    let text = b"the cat and the hat, the bat and the rat\nsat on the mat with a cat\n\
                 one two three four five six seven eight nine ten eleven twelve, \
                 to be or not to be, that is the question";
    check_c("heap", 5, text);
}

#[test]
fn simd() {
    check_c_with("simd", 3, b"", Regs::Sse2Intrinsics);
}

/// The Rust guest at every optimisation level (static), and as a static PIE.
#[test]
fn rust_no_std() {
    let rustc = rustc();
    let dir = work_dir("rust");
    let src = src_dir().join("rust_prog.rs");
    let mut builds = Vec::new();
    // Every level as a static executable; static PIE at two levels (each rustc run
    // costs about a second of CPU).
    let matrix = ["0", "1", "2", "3", "s", "z"]
        .map(|o| (o, false))
        .into_iter()
        .chain([("0", true), ("2", true)]);
    for (opt, pie) in matrix {
        let kind = if pie { "static-pie" } else { "static" };
        let label = format!("opt-level={opt} {kind}");
        let path = dir.join(format!("rust-O{opt}-{kind}.elf"));
        builds.push((
            opt,
            Build {
                label,
                path,
                pie,
                cet: false,
            },
        ));
    }
    thread::scope(|s| {
        let jobs: Vec<_> = builds
            .iter()
            .map(|(opt, b)| {
                let src = &src;
                s.spawn(move || {
                    let mut cmd = Command::new(rustc);
                    cmd.args([
                        "--edition",
                        "2021",
                        "--crate-type",
                        "bin",
                        "-C",
                        "panic=abort",
                    ])
                    .arg("-C")
                    .arg(format!("opt-level={opt}"))
                    .args(["-C", "target-feature=+crt-static"])
                    .args([
                        "-C",
                        "link-arg=-nostartfiles",
                        "-C",
                        "link-arg=-nostdlib",
                    ]);
                    if b.pie {
                        cmd.args(["-C", "relocation-model=pie", "-C", "link-arg=-static-pie"]);
                    } else {
                        cmd.args(["-C", "relocation-model=static", "-C", "link-arg=-static"]);
                    }
                    // Intermediate files are named after the (distinct) output stems.
                    cmd.arg("-o").arg(&b.path).arg(src);
                    output_of(&mut cmd).map(|_| ())
                })
            })
            .collect();
        for j in jobs {
            j.join()
                .expect("compile thread")
                .unwrap_or_else(|e| panic!("{e}"));
        }
    });
    let builds: Vec<Build> = builds.into_iter().map(|(_, b)| b).collect();
    let seed = 0x5eed;
    let (rax, report) = rust_compute::run(seed);
    let want = Expected {
        rax,
        output: Some(report.into_bytes()),
        debug: Vec::new(),
    };
    check_builds("rust_prog", &dir, &builds, seed, b"", &want);
}
