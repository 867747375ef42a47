//! Whole programs using SSE as compilers emit it: the C sources in `tests/sse/`
//! (float math and auto-vectorisable integer loops), built at test time by gcc
//! and, when installed, clang, at -O2 and -O3, with default flags and with
//! `-march=x86-64-v2` (SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT); and a `no_std` Rust
//! program built by the host rustc with default flags and with
//! `-C target-cpu=x86-64-v2`.
//!
//! Each build is freestanding (`-static -nostdlib -ffreestanding`). The very same
//! ELF runs natively, from its `_start`, which calls `run(k)` for every sub-test
//! and writes the results to stdout, and in the VM, which calls the `run` symbol
//! directly; the two must agree bit for bit (the results hash every computed
//! value and MXCSR).

use std::path::{Path, PathBuf};
use std::process::Command;

use x64vm::{Config, Instance, NoHost, Status, load_elf};

/// (program, number of sub-tests).
const PROGRAMS: [(&str, u64); 2] = [("floats", 12), ("ints", 12)];

const FLAG_SETS: [&[&str]; 4] = [
    &["-O2"],
    &["-O3"],
    &["-O2", "-march=x86-64-v2"],
    &["-O3", "-march=x86-64-v2"],
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sse")
}

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sse-programs")
        .join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds `name.c` with `cc` and `flags`.
fn build(cc: &str, name: &str, flags: &[&str], out: &Path) -> Result<(), String> {
    let res = Command::new(cc)
        .args(flags)
        .args([
            "-std=gnu11",
            "-static",
            "-nostdlib",
            "-ffreestanding",
            "-fno-pie",
            "-no-pie",
        ])
        .args([
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            "-Wall",
        ])
        .arg("-I")
        .arg(src_dir())
        .arg("-o")
        .arg(out)
        .arg(src_dir().join(format!("{name}.c")))
        .arg("-lgcc")
        .output()
        .map_err(|e| format!("running {cc}: {e}"))?;
    if !res.status.success() {
        return Err(format!(
            "{cc} {flags:?} {name}.c:\n{}",
            String::from_utf8_lossy(&res.stderr)
        ));
    }
    Ok(())
}

/// Runs the ELF natively: the results of `run(0..tests)`.
fn native(elf: &Path, tests: u64) -> Vec<u64> {
    let out = Command::new(elf)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", elf.display()));
    assert!(
        out.status.success(),
        "{} exited with {}",
        elf.display(),
        out.status
    );
    assert_eq!(out.stdout.len() as u64, tests * 8, "{}", elf.display());
    out.stdout
        .chunks(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Runs `run(k)` in the VM for every k, each in a fresh instance.
fn in_vm(elf: &[u8], tests: u64) -> Result<Vec<u64>, String> {
    let image = load_elf(elf, true).map_err(|e| format!("load_elf: {e}"))?;
    let entry = image.symbol("run").ok_or("no `run` symbol")?;
    (0..tests)
        .map(|k| {
            let mut inst = Instance::new(&image, &Config::default(), &[])
                .map_err(|e| format!("Instance::new: {e}"))?;
            inst.prepare_call(entry, &[k])
                .map_err(|e| format!("prepare_call: {e}"))?;
            let out = inst.run(&mut NoHost);
            match out.status {
                Status::Success => Ok(out.rax),
                Status::Trapped(t) => Err(format!("run({k}) trapped: {t}")),
                s => Err(format!("run({k}) ended with {}", s.name())),
            }
        })
        .collect()
}

fn check(name: &str, tests: u64) {
    assert!(available("gcc"), "gcc is needed to build the SSE programs");
    let mut compilers = vec!["gcc"];
    if available("clang") {
        compilers.push("clang");
    }
    let dir = work_dir(name);
    let mut failures = Vec::new();
    let mut runs = 0;
    for cc in &compilers {
        for flags in FLAG_SETS {
            let label = format!("{cc} {}", flags.join(" "));
            let elf = dir.join(format!(
                "{name}-{cc}{}.elf",
                flags.join("").replace('=', "")
            ));
            build(cc, name, flags, &elf).unwrap_or_else(|e| panic!("{e}"));
            let want = native(&elf, tests);
            let bytes = std::fs::read(&elf).unwrap();
            match in_vm(&bytes, tests) {
                Ok(got) => {
                    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                        if g != w {
                            failures.push(format!(
                                "{label}: run({k}) = {g:#018x}, native {w:#018x} ({})",
                                elf.display()
                            ));
                        }
                    }
                }
                Err(e) => failures.push(format!("{label}: {e} ({})", elf.display())),
            }
            runs += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(runs >= 4);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Builds and compares the Rust program.
fn check_rust(tests: u64) {
    assert!(
        available("rustc"),
        "rustc is needed to build the Rust SSE program"
    );
    let dir = work_dir("rust");
    let mut failures = Vec::new();
    for cpu in [None, Some("x86-64-v2")] {
        let label = format!(
            "rustc -O{}",
            cpu.map(|c| format!(" -C target-cpu={c}"))
                .unwrap_or_default()
        );
        let elf = dir.join(format!("rust_floats-{}.elf", cpu.unwrap_or("default")));
        let mut cmd = Command::new("rustc");
        cmd.args([
            "--edition",
            "2021",
            "-O",
            "-C",
            "panic=abort",
            "-C",
            "relocation-model=static",
        ])
        .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-nostdlib"])
        .args(["-C", "link-arg=-static", "-C", "link-arg=-no-pie"]);
        if let Some(c) = cpu {
            cmd.arg("-C").arg(format!("target-cpu={c}"));
        }
        let out = cmd
            .arg("-o")
            .arg(&elf)
            .arg(src_dir().join("rust_floats.rs"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{label}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = native(&elf, tests);
        match in_vm(&std::fs::read(&elf).unwrap(), tests) {
            Ok(got) if got == want => {}
            Ok(got) => failures.push(format!("{label}: vm {got:x?}, native {want:x?}")),
            Err(e) => failures.push(format!("{label}: {e} ({})", elf.display())),
        }
    }
    assert!(failures.is_empty(), "rust: {}", failures.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rust_float_and_integer_code_matches_native() {
    check_rust(6);
}

#[test]
fn float_math_matches_native() {
    check(PROGRAMS[0].0, PROGRAMS[0].1);
}

#[test]
fn vectorised_integer_loops_match_native() {
    check(PROGRAMS[1].0, PROGRAMS[1].1);
}
