//! Shared test helpers: building C contracts with gcc at test time.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use x64vm_runtime::abi::{Abi, selector, topic};

/// The ABI of tests/contracts/bank.c.
pub const BANK_ABI: &str = "\
# the local chain's test contract
fn init(u128 supply)
fn transfer(address to, u128 amount) -> bool
fn balance_of(address who) -> u128 view
fn total_supply() -> u128 view
fn set(u64 v)
fn get() -> u64 view
fn set_and_emit(u64 v)
fn set_then_fail(u64 v, u8 how)
fn nested(address callee, u64 v) -> u64
fn call_set(address callee, u64 v) -> u64
fn spin(u64 n) -> u64
fn deposit()
fn pay(address to, u128 amount) -> u64
fn block_info() -> bytes view
event Transfer(address from, address to, u128 amount)
event Set(u64 v)
";

fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The generated header: ABI text, selectors, event topics.
fn header(abi_text: &str) -> String {
    let abi = Abi::parse(abi_text).expect("test ABI parses");
    let mut h = format!("#define ABI_TEXT {}\n", c_string(abi_text));
    for f in &abi.functions {
        let s = selector(&f.signature());
        h.push_str(&format!(
            "#define SEL_{} {:#010x}u\n",
            f.name,
            u32::from_le_bytes(s)
        ));
    }
    for e in &abi.events {
        let t = topic(&e.signature());
        let bytes: Vec<String> = t.iter().map(|b| format!("{b:#04x}")).collect();
        h.push_str(&format!(
            "#define TOPIC_{} {{{}}}\n",
            e.name.to_uppercase(),
            bytes.join(",")
        ));
    }
    h
}

/// A fresh directory under the target's temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("x64vm-chain-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Compiles `tests/contracts/NAME.c` with a header generated from `abi_text`.
pub fn build_c(name: &str, abi_text: &str) -> Vec<u8> {
    let dir = temp_dir(&format!("build-{name}"));
    let hdr = dir.join("sel.h");
    std::fs::write(&hdr, header(abi_text)).expect("write header");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/contracts")
        .join(format!("{name}.c"));
    let out = dir.join(format!("{name}.elf"));
    let st = Command::new("gcc")
        .args([
            "-O2",
            "-static",
            "-nostdlib",
            "-ffreestanding",
            "-fno-pie",
            "-no-pie",
            "-fno-stack-protector",
            "-fno-builtin",
            "-Wall",
            "-Werror",
            "-include",
        ])
        .arg(&hdr)
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .output()
        .expect("gcc runs");
    assert!(
        st.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    std::fs::read(&out).expect("read elf")
}

/// The test contract, built once per test binary.
pub fn bank() -> &'static [u8] {
    static ELF: OnceLock<Vec<u8>> = OnceLock::new();
    ELF.get_or_init(|| build_c("bank", BANK_ABI))
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The SDK example token in C (examples/token/c/token.c), built with the
/// SDK's flags; `None` when the example is not in the tree.
pub fn sdk_token() -> Option<&'static [u8]> {
    static ELF: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    ELF.get_or_init(|| {
        let src = repo().join("examples/token/c/token.c");
        let inc = repo().join("sdk/c/include");
        if !src.exists() || !inc.exists() {
            return None;
        }
        let out = temp_dir("token").join("token.elf");
        let st = Command::new("gcc")
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
            .arg("-I")
            .arg(&inc)
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .arg("-lgcc")
            .output()
            .expect("gcc runs");
        assert!(
            st.status.success(),
            "gcc failed on the example token: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        Some(std::fs::read(&out).expect("read elf"))
    })
    .as_deref()
}
