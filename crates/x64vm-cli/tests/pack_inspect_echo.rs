//! `x64vm pack`, `x64vm inspect`, `x64vm run` on a packed file, and `x64vm echo`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn x64vm(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_x64vm"))
        .args(args)
        .output()
        .expect("run x64vm");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("x64vm-cli-pack");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn pack_inspect_and_run_the_fib_example() {
    // Built as examples/fib/Makefile builds it (the ELF is not checked in).
    let elf = dir().join("fib.elf");
    let st = Command::new("gcc")
        .args([
            "-O2",
            "-static",
            "-nostdlib",
            "-fno-pie",
            "-no-pie",
            "-ffreestanding",
            "-fno-stack-protector",
            "-o",
        ])
        .arg(&elf)
        .arg(root().join("examples/fib/fib.c"))
        .status()
        .expect("gcc builds the fib example");
    assert!(st.success());
    let out = dir().join("fib.x64p");
    let (ok, text) = x64vm(&["pack", elf.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    let elf_len = std::fs::metadata(&elf).unwrap().len();
    let packed_len = std::fs::metadata(&out).unwrap().len();
    assert!(packed_len < elf_len);
    assert!(
        text.contains(&format!("{elf_len} bytes (ELF)"))
            && text.contains(&format!("{packed_len} bytes (x64vm packed)")),
        "{text}"
    );

    let (ok, text) = x64vm(&["inspect", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    for needle in [
        "format:   x64vm packed",
        "exports:  2",
        "  fib",
        "  _start",
        "r-x",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
    }
    let (ok, text) = x64vm(&["inspect", elf.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(
        text.contains("format:   ELF") && text.contains(&format!("packed:   {packed_len} bytes")),
        "{text}"
    );

    for file in [&out, &elf] {
        let (ok, text) = x64vm(&[
            "run",
            file.to_str().unwrap(),
            "--entry",
            "fib",
            "--arg",
            "25",
        ]);
        assert!(ok, "{text}");
        assert!(text.contains("as u64:   75025"), "{text}");
    }
}

/// The hex of one contract in the Echo fixture (a flat JSON file).
fn echo_hex(name: &str) -> String {
    let path = root().join("crates/x64vm-echo/tests/data/contracts.json");
    let json = std::fs::read_to_string(path).unwrap();
    let at = json
        .find(&format!("\"{name}\""))
        .expect("contract in the fixture");
    let code = at + json[at..].find("\"code\": \"").expect("code field") + 9;
    let end = code + json[code..].find('"').expect("end of code");
    json[code..end].to_string()
}

#[test]
fn echo_runs_the_original_contracts() {
    let fib = dir().join("fib.echo.hex");
    std::fs::write(&fib, echo_hex("fib")).unwrap();
    let (ok, text) = x64vm(&["echo", fib.to_str().unwrap(), "fib(25)"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("error:    none") && text.contains("result:   75025 (u64)"),
        "{text}"
    );

    let wrong = dir().join("wrong_contract.echo");
    let hex = echo_hex("wrong_contract");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    std::fs::write(&wrong, bytes).unwrap();
    let w = wrong.to_str().unwrap();
    let (ok, text) = x64vm(&["echo", w, r#"get_balance("1.2.10", "1.3.0""#]);
    assert!(
        !ok && text.contains("error:    incorrect_parameters"),
        "{text}"
    );
    let (ok, text) = x64vm(&[
        "echo",
        w,
        r#"get_balance("1.2.10", "1.3.0")"#,
        "--balance",
        "1.2.10,1.3.0=500",
    ]);
    assert!(ok && text.contains("result:   500 (i64)"), "{text}");
    let (ok, text) = x64vm(&["echo", w, "block_number()", "--block", "42"]);
    assert!(ok && text.contains("result:   42 (u32)"), "{text}");
    let (ok, text) = x64vm(&["inspect", w]);
    assert!(ok && text.contains("format:   Echo packed"), "{text}");
    // `run` points Echo files to the echo profile.
    let (ok, text) = x64vm(&["run", w]);
    assert!(!ok && text.contains("x64vm echo"), "{text}");
}
