//! Standard statically linked programs under the Linux profile: musl C, g++ with
//! libstdc++, and Rust std, built at test time with the system toolchains. Each
//! runs natively and in the VM; stdout, stderr and the exit code must match, and
//! two VM runs must agree on everything including gas.

use std::path::{Path, PathBuf};
use std::process::Command;

use x64vm::linux::{LinuxConfig, spawn};
use x64vm::{Config, Status, load_elf};

fn src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/linux")
        .join(name)
}

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("linux_programs");
    std::fs::create_dir_all(&d).expect("create build dir");
    d
}

/// Runs a build command; a missing compiler is a clear failure (CI installs them).
fn build(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run compiler ({e}); install it"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Run {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    code: i32,
}

fn native(exe: &Path, args: &[&str]) -> Run {
    let out = Command::new(exe)
        .args(args)
        .env_clear()
        .output()
        .expect("run natively");
    Run {
        stdout: out.stdout,
        stderr: out.stderr,
        code: out.status.code().unwrap_or(-1),
    }
}

fn in_vm(exe: &Path, args: &[&str]) -> (Run, u64) {
    let bytes = std::fs::read(exe).expect("read program");
    let image = load_elf(&bytes, false).expect("load program");
    let mut argv = vec![exe.display().to_string()];
    argv.extend(args.iter().map(|s| s.to_string()));
    let linux = LinuxConfig {
        args: argv,
        ..LinuxConfig::default()
    };
    let config = Config {
        gas_limit: 1 << 40,
        memory_limit: 1 << 30,
        stack_size: 8 << 20,
        ..Config::default()
    };
    let (mut inst, mut host) = spawn(&image, &config, &linux).expect("spawn");
    let outcome = inst.run(&mut host);
    if let Status::Trapped(t) = &outcome.status {
        panic!(
            "{} trapped: {t}\nstdout so far:\n{}\nENOSYS: {:?}",
            exe.display(),
            String::from_utf8_lossy(&host.stdout),
            host.unsupported
        );
    }
    let code = host.exit_code.unwrap_or(0);
    (
        Run {
            stdout: host.stdout,
            stderr: host.stderr,
            code,
        },
        outcome.gas_used,
    )
}

/// Replaces the OS thread id that Rust prints in panic messages
/// ("thread 'main' (12345) panicked"): natively it is the real tid, in the VM the
/// fixed one, so it is the one part of the output that may legitimately differ.
fn without_tids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("' (") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(')') {
            out.push_str("TID");
            rest = &tail[digits..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

fn compare(exe: &Path, args: &[&str]) {
    let n = native(exe, args);
    let (a, gas_a) = in_vm(exe, args);
    let (b, gas_b) = in_vm(exe, args);
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    assert_eq!(
        text(&a.stdout),
        text(&n.stdout),
        "stdout of {}",
        exe.display()
    );
    assert_eq!(
        without_tids(&text(&a.stderr)),
        without_tids(&text(&n.stderr)),
        "stderr of {}",
        exe.display()
    );
    assert_eq!(a.code, n.code, "exit code of {}", exe.display());
    assert_eq!(
        (a.stdout, a.stderr, a.code, gas_a),
        (b.stdout, b.stderr, b.code, gas_b),
        "two VM runs differ"
    );
}

#[test]
fn musl_c_program() {
    let exe = out_dir().join("musl_c");
    build(
        Command::new("musl-gcc")
            .args(["-O2", "-static", "-o"])
            .arg(&exe)
            .arg(src("musl_c.c"))
            .arg("-lm"),
        "musl-gcc",
    );
    compare(&exe, &["one", "two"]);
}

#[test]
fn cpp_program() {
    let exe = out_dir().join("cpp");
    build(
        Command::new("g++")
            .args(["-O2", "-static", "-std=c++17", "-o"])
            .arg(&exe)
            .arg(src("cpp.cpp")),
        "g++",
    );
    compare(&exe, &[]);
}

#[test]
fn rust_std_program() {
    let exe = out_dir().join("rust_std");
    build(
        Command::new("rustc")
            .args([
                "--edition",
                "2021",
                "-O",
                "-C",
                "target-feature=+crt-static",
                "-o",
            ])
            .arg(&exe)
            .arg(src("rust_std.rs")),
        "rustc",
    );
    compare(&exe, &[]);
}

#[test]
fn file_calls_use_the_private_file_system() {
    let exe = out_dir().join("files");
    build(
        Command::new("musl-gcc")
            .args(["-O2", "-static", "-o"])
            .arg(&exe)
            .arg(src("files.c")),
        "musl-gcc",
    );
    // Natively the program works in a scratch directory; in the VM "/tmp" exists
    // only in its own file system. Both runs print the same thing.
    let dir = out_dir().join("files-scratch");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let n = native(&exe, &[dir.to_str().expect("utf-8 path")]);
    let (v, _) = in_vm(&exe, &["/tmp"]);
    assert_eq!(
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&n.stdout)
    );
    assert_eq!((v.code, n.code), (0, 0));
    assert!(String::from_utf8_lossy(&v.stdout).contains("line: appended 42"));
}

#[test]
fn nested_function_trampolines_on_an_executable_stack() {
    let exe = out_dir().join("nested");
    build(
        Command::new("gcc")
            .args(["-O1", "-static", "-o"])
            .arg(&exe)
            .arg(src("nested.c")),
        "gcc",
    );
    let image = load_elf(&std::fs::read(&exe).expect("read"), false).expect("load");
    assert!(
        image.exec_stack,
        "gcc marks the stack executable for trampolines"
    );
    compare(&exe, &[]);
}
