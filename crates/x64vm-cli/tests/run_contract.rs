//! `x64vm run FILE 'call line'`: deploy into a fresh in-memory chain, call,
//! print the receipt; the raw `--entry` mode keeps working.

use std::path::PathBuf;
use std::process::Command;

/// A contract without an ABI section: whatever the selector, it reads a u64
/// argument, emits it as an event, and returns it doubled (or reverts on 0).
const SRC: &str = r#"
typedef unsigned long u64;
typedef unsigned char u8;
#define HC(N, a, b, c) ({ u64 r_; __asm__ volatile("int %1" : "=a"(r_) : "i"(N), "D"((u64)(a)), "S"((u64)(b)), "d"((u64)(c)) : "memory"); r_; })
static u8 topic[32];
void _start(const u8 *in, u64 len) {
    u64 v = 0;
    for (int i = 0; i < 8 && 4 + i < (int)len; i++) v |= (u64)in[4 + i] << (8 * i);
    if (v == 0) HC(0x23, "zero", 4, 0);
    HC(0x38, topic, &v, 8);
    v *= 2;
    HC(0x22, &v, 8, 0);
}
"#;

fn build() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("x64vm-cli-run-contract");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("double.c");
    std::fs::write(&src, SRC).unwrap();
    let out = dir.join("double.elf");
    let st = Command::new("gcc")
        .args([
            "-O2",
            "-static",
            "-nostdlib",
            "-ffreestanding",
            "-fno-pie",
            "-no-pie",
            "-fno-stack-protector",
            "-o",
        ])
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    out
}

fn x64vm(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_x64vm"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_call_line_deploys_calls_and_prints_the_receipt() {
    let elf = build();
    let elf = elf.to_str().unwrap();
    let (code, out, err) = x64vm(&["run", elf, "double(u64) -> u64 (21)", "--from", "bob"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("status:   success"), "{out}");
    assert!(out.contains("output:   42"), "{out}");
    assert!(out.contains("event:    topic 0x0000"), "{out}");
    assert!(out.contains("gas used: "), "{out}");
    let (code, out, _) = x64vm(&["run", elf, "double(u64)(0)", "--gas", "100000"]);
    assert_eq!(code, 1);
    assert!(out.contains("status:   reverted: zero"), "{out}");
    assert!(out.contains("of 100000"), "{out}");
    let (code, out, _) = x64vm(&["run", elf, "double(u64)(1)", "--gas", "10"]);
    assert_eq!(code, 1);
    assert!(out.contains("out_of_gas"), "{out}");
}

#[test]
fn bad_call_lines_are_errors_before_running() {
    let elf = build();
    let elf = elf.to_str().unwrap();
    let (code, _, err) = x64vm(&["run", elf, "double(21)"]);
    assert_eq!(code, 2);
    assert!(err.contains("no ABI description"), "{err}");
    let (code, _, err) = x64vm(&["run", elf, "double(u8)(256)"]);
    assert_eq!(code, 2);
    assert!(err.contains("out of range for u8"), "{err}");
    let (code, _, err) = x64vm(&["run", elf, "double(u64)(1)", "--arg", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be combined"), "{err}");
}

#[test]
fn the_raw_entry_mode_still_works() {
    let elf = build();
    let elf = elf.to_str().unwrap();
    // Without a chain host only the core services exist: the revert path works...
    let (code, out, _) = x64vm(&["run", elf, "--input", "000000000000000000000000"]);
    assert_eq!(code, 1);
    assert!(out.contains("status:   reverted"), "{out}");
    // ...and the event service is not served.
    let (code, out, _) = x64vm(&["run", elf, "--input", "000000001500000000000000"]);
    assert_eq!(code, 1);
    assert!(out.contains("invalid_host_call"), "{out}");
}
