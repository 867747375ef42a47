//! Builds the benchmark kernels (bench/c/kernels.c) with the same gcc -O2 twice:
//! natively, linked into the bench binary through `cc`, and as a freestanding ELF
//! for the VM, embedded as bytes. Both sides run the same machine code.
//!
//! For the wasmi peer it also compiles the same source to wasm32 with clang -O2
//! (and wasm-ld), and natively with clang -O2 for reference. Without clang or
//! wasm-ld the build goes on: `kernels.wasm` is left empty, `kernels.wasm.why`
//! says why, and the wasmi column prints "n/a" (so does the clang column).
//!
//! For the newer rows it also builds:
//! - the example token contract (examples/token/c/token.c) with the C SDK's flags
//!   (sdk/c/contract.mk), for the token-transfer loop through the runtime;
//! - generated programs for the load row (`gen-<N>.elf`, `gen-<N>.wasm`): N
//!   functions of straight-line integer code and a `gen_main` that calls them all,
//!   as x86-64 assembly (assembled by gcc, so no C compile time) and as a wasm
//!   module written directly, both computing the same function; `gen-<N>.expect`
//!   holds `gen_main(GEN_ARG)` as computed here.
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
    "bench_nop",
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
    println!("cargo:rerun-if-changed={TOKEN_SRC}");
    println!("cargo:rerun-if-changed={SDK_INCLUDE}/x64vm.h");
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
    build_token(&out.join("token.elf"));
    for &n in GEN_FUNCTIONS {
        build_generated(&out, n);
    }

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

/// The example token contract, built as sdk/c/contract.mk builds contracts.
const TOKEN_SRC: &str = "../examples/token/c/token.c";
const SDK_INCLUDE: &str = "../sdk/c/include";

fn build_token(elf: &Path) {
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "gcc".into()))
        .args([
            "-std=c11",
            "-O2",
            "-static",
            "-nostdlib",
            "-ffreestanding",
            "-fno-pie",
            "-no-pie",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
        ])
        .arg(format!("-I{SDK_INCLUDE}"))
        .arg("-o")
        .arg(elf)
        .arg(TOKEN_SRC)
        .arg("-lgcc")
        .status()
        .expect("run gcc");
    assert!(status.success(), "gcc failed for {TOKEN_SRC}");
}

/// Sizes (number of functions) of the generated programs of the load row.
const GEN_FUNCTIONS: &[usize] = &[256, 1024, 4096];
/// Rounds of mixing per generated function (about 34 bytes of x86-64 each).
const GEN_ROUNDS: usize = 8;
/// The argument `gen_main` is checked with.
const GEN_ARG: u64 = 7;

/// One round of a generated function: `x ^= x >> shr; x *= mul; x = rotl(x, rol);
/// x += add`.
struct Round {
    shr: u32,
    mul: u64,
    rol: u32,
    add: u32,
}

/// The rounds of the `n`-function program, function by function (deterministic).
fn gen_rounds(n: usize) -> Vec<Vec<Round>> {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s >> 11
    };
    (0..n)
        .map(|_| {
            (0..GEN_ROUNDS)
                .map(|_| Round {
                    shr: 1 + (next() % 63) as u32,
                    mul: (next() << 11 ^ next()) | 1,
                    rol: 1 + (next() % 63) as u32,
                    add: (next() % (1 << 31)) as u32,
                })
                .collect()
        })
        .collect()
}

/// `gen_main(x)`: every function in order.
fn gen_eval(funcs: &[Vec<Round>], mut x: u64) -> u64 {
    for f in funcs {
        for r in f {
            x ^= x >> r.shr;
            x = x
                .wrapping_mul(r.mul)
                .rotate_left(r.rol)
                .wrapping_add(u64::from(r.add));
        }
    }
    x
}

/// Writes `gen-<n>.elf`, `gen-<n>.wasm` and `gen-<n>.expect` into `out`.
fn build_generated(out: &Path, n: usize) {
    use std::fmt::Write as _;
    let funcs = gen_rounds(n);
    let mut asm = String::from("\t.text\n");
    for (i, f) in funcs.iter().enumerate() {
        let _ = writeln!(
            asm,
            "\t.globl gen_f{i}\n\t.type gen_f{i}, @function\ngen_f{i}:\n\tmov %rdi, %rax"
        );
        for r in f {
            let _ = writeln!(
                asm,
                "\tmov %rax, %rdx\n\tshr ${}, %rdx\n\txor %rdx, %rax\n\tmovabs ${}, %rcx\n\timul %rcx, %rax\n\trol ${}, %rax\n\tadd ${}, %rax",
                r.shr, r.mul, r.rol, r.add
            );
        }
        let _ = writeln!(asm, "\tret\n\t.size gen_f{i}, .-gen_f{i}");
    }
    asm.push_str("\t.globl gen_main\n\t.type gen_main, @function\ngen_main:\n\tsub $8, %rsp\n");
    for i in 0..n {
        let _ = writeln!(asm, "\tcall gen_f{i}\n\tmov %rax, %rdi");
    }
    asm.push_str("\tadd $8, %rsp\n\tret\n\t.size gen_main, .-gen_main\n");
    // Some initialised data too, as real programs have (not used by the code).
    asm.push_str("\t.data\n\t.globl gen_table\ngen_table:\n");
    for f in &funcs {
        let _ = writeln!(asm, "\t.quad {}, {}", f[0].mul, f[1].mul);
    }
    asm.push_str("\t.section .note.GNU-stack,\"\",@progbits\n");
    let s_path = out.join(format!("gen-{n}.s"));
    fs::write(&s_path, asm).expect("write generated assembly");
    let elf = out.join(format!("gen-{n}.elf"));
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "gcc".into()))
        .args(["-static", "-nostdlib", "-no-pie", "-e", "gen_main", "-o"])
        .arg(&elf)
        .arg(&s_path)
        .status()
        .expect("run gcc");
    assert!(status.success(), "gcc failed for {}", s_path.display());
    fs::write(out.join(format!("gen-{n}.wasm")), gen_wasm(&funcs)).expect("write wasm");
    fs::write(
        out.join(format!("gen-{n}.expect")),
        format!("{GEN_ARG} {}\n", gen_eval(&funcs, GEN_ARG)),
    )
    .expect("write expect");
}

fn uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn sleb(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// The generated program as a wasm module: the same functions (`(i64) -> i64`),
/// `gen_main` exported, no memory.
fn gen_wasm(funcs: &[Vec<Round>]) -> Vec<u8> {
    const I64: u8 = 0x7e;
    let (local_get, local_set, i64_const, call, end) = (0x20, 0x21, 0x42, 0x10, 0x0b);
    let (shr_u, xor, mul, rotl, add) = (0x88, 0x85, 0x7e, 0x89, 0x7c);
    let section = |m: &mut Vec<u8>, id: u8, body: Vec<u8>| {
        m.push(id);
        uleb(m, body.len() as u64);
        m.extend(body);
    };
    let n = funcs.len() as u64;
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    section(&mut m, 1, vec![1, 0x60, 1, I64, 1, I64]);
    let mut fsec = vec![];
    uleb(&mut fsec, n + 1);
    fsec.extend(std::iter::repeat_n(0, funcs.len() + 1));
    section(&mut m, 3, fsec);
    let mut exp = vec![1, 8];
    exp.extend(b"gen_main");
    exp.push(0);
    uleb(&mut exp, n);
    section(&mut m, 7, exp);
    let mut code = vec![];
    uleb(&mut code, n + 1);
    let body = |code: &mut Vec<u8>, instrs: Vec<u8>| {
        uleb(code, instrs.len() as u64 + 2);
        code.push(0); // no locals besides the parameter
        code.extend(instrs);
        code.push(end);
    };
    for f in funcs {
        let mut b = vec![];
        for r in f {
            b.extend([local_get, 0, local_get, 0, i64_const]);
            sleb(&mut b, i64::from(r.shr));
            b.extend([shr_u, xor, i64_const]);
            sleb(&mut b, r.mul as i64);
            b.extend([mul, i64_const]);
            sleb(&mut b, i64::from(r.rol));
            b.extend([rotl, i64_const]);
            sleb(&mut b, i64::from(r.add));
            b.extend([add, local_set, 0]);
        }
        b.extend([local_get, 0]);
        body(&mut code, b);
    }
    let mut b = vec![local_get, 0];
    for i in 0..n {
        b.push(call);
        uleb(&mut b, i);
    }
    body(&mut code, b);
    section(&mut m, 10, code);
    m
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
