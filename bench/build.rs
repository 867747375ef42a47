//! Builds the benchmark kernels (bench/c/kernels.c) with the same gcc -O2 twice:
//! natively, linked into the bench binary through `cc`, and as a freestanding ELF
//! for the VM, embedded as bytes. Both sides run the same machine code.
//!
//! For the wasmi peer it also compiles the same source to wasm32 with clang -O2
//! (and wasm-ld), and natively with clang -O2 for reference. Without clang or
//! wasm-ld the build goes on: `kernels.wasm` is left empty, `kernels.wasm.why`
//! says why, and the wasmi column prints "n/a" (so does the clang column).
//!
//! It also records, for the report, the versions of the peer engines (from
//! Cargo.lock), of solc (bench/sol/solc.version) and of gcc and clang.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const SRC: &str = "c/kernels.c";
/// Keep gcc from turning loops into calls to memset/memcpy (there is no libc in
/// the VM build, and natively that would run the host libc's code instead).
const COMMON: &[&str] = &["-fno-tree-loop-distribute-patterns", "-fno-stack-protector"];
/// The kernels the wasm module exports (everything else stays internal).
const EXPORTS: &[&str] = &[
    "bench_fib",
    "bench_sieve",
    "bench_sha256",
    "bench_qsort",
    "bench_memops",
];

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=c/kernels.c");
    println!("cargo:rerun-if-changed=c/common.h");
    println!("cargo:rerun-if-changed=sol/solc.version");
    println!("cargo:rerun-if-changed=../Cargo.lock");
    println!("cargo:rerun-if-env-changed=CC");
    println!("cargo:rerun-if-env-changed=BENCH_CLANG");
    let mut native = cc::Build::new();
    native.file(SRC).opt_level(2);
    for f in COMMON {
        native.flag(f);
    }
    native.compile("kernels");
    let elf = out.join("kernels.elf");
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "gcc".into()))
        .args([
            "-O2",
            "-static",
            "-nostdlib",
            "-fno-pie",
            "-no-pie",
            "-ffreestanding",
        ])
        .args(COMMON)
        .args(["-e", "bench_fib", "-o"])
        .arg(&elf)
        .arg(SRC)
        .status()
        .expect("run gcc");
    assert!(status.success(), "gcc failed for {SRC}");

    let wasm = out.join("kernels.wasm");
    let why = match build_wasm(&wasm) {
        Ok(()) => String::new(),
        Err(e) => {
            println!("cargo:warning=wasmi column disabled: {e}");
            fs::write(&wasm, b"").expect("write kernels.wasm");
            e
        }
    };
    fs::write(out.join("kernels.wasm.why"), why).expect("write kernels.wasm.why");

    // The same kernels natively with clang -O2, symbols renamed: the wasm build's
    // compiler, to tell the compiler's share of the wasmi column from wasmi's.
    println!("cargo::rustc-check-cfg=cfg(bench_clang_native)");
    let mut clang_native = cc::Build::new();
    clang_native
        .compiler(clang())
        .file(SRC)
        .opt_level(2)
        .flag("-ffreestanding")
        .flag("-fno-stack-protector")
        .define("bench_area", "clang_bench_area")
        .cargo_warnings(false);
    for e in EXPORTS {
        clang_native.define(e, format!("clang_{e}").as_str());
    }
    match clang_native.try_compile("kernels_clang") {
        Ok(()) => println!("cargo:rustc-cfg=bench_clang_native"),
        Err(e) => println!("cargo:warning=no native clang build: {e}"),
    }

    let lock = fs::read_to_string("../Cargo.lock").unwrap_or_default();
    for (krate, var) in [
        ("wasmi", "BENCH_WASMI_VERSION"),
        ("revm", "BENCH_REVM_VERSION"),
    ] {
        let v = locked_version(&lock, krate).unwrap_or_else(|| "unknown".into());
        println!("cargo:rustc-env={var}={v}");
    }
    let solc = fs::read_to_string("sol/solc.version").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=BENCH_SOLC_VERSION={}", solc.trim());
    let gcc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    println!("cargo:rustc-env=BENCH_GCC_VERSION={}", tool_version(&gcc));
    println!(
        "cargo:rustc-env=BENCH_CLANG_VERSION={}",
        tool_version(&clang())
    );
}

/// The clang to use: `BENCH_CLANG` or `clang`.
fn clang() -> String {
    std::env::var("BENCH_CLANG").unwrap_or_else(|_| "clang".into())
}

/// The last word that looks like a version number in the first line of
/// `tool --version`, or "unknown".
fn tool_version(tool: &str) -> String {
    Command::new(tool)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let line = text.lines().next()?.to_string();
            line.split_whitespace()
                .rev()
                .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w.contains('.'))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".into())
}

/// clang -O2 to wasm32, freestanding (`-ffreestanding` implies `-fno-builtin`, so
/// clang does not turn loops into memset/memcpy, as `COMMON` does for gcc). The
/// block fill/copy of the memops kernel use the bulk-memory instructions
/// (`memory.fill`, `memory.copy`): the wasm counterpart of `rep stosb/movsb`.
fn build_wasm(wasm: &Path) -> Result<(), String> {
    let clang = clang();
    let mut cmd = Command::new(&clang);
    cmd.args([
        "--target=wasm32",
        "-O2",
        "-nostdlib",
        "-ffreestanding",
        "-mbulk-memory",
    ])
    .arg("-Wl,--no-entry");
    for e in EXPORTS {
        cmd.arg(format!("-Wl,--export={e}"));
    }
    cmd.arg("-o").arg(wasm).arg(SRC);
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run {clang}: {e}"))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let first = err.lines().next().unwrap_or("no message");
        return Err(format!("{clang} --target=wasm32 failed: {first}"));
    }
    Ok(())
}

/// The version of `krate` in a Cargo.lock (the first entry with that name).
fn locked_version(lock: &str, krate: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("name = \"{krate}\"") {
            let v = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(v.trim_end_matches('"').to_string());
        }
    }
    None
}
