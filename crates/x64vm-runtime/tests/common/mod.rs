//! Shared test helpers: building the C test contracts with gcc at test time.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use x64vm_runtime::abi::{Abi, selector, topic};

/// The ABI of tests/contracts/svc.c.
pub const SVC_ABI: &str = "\
# the service test contract
fn set(bytes key, bytes value)
fn get(bytes key) -> bytes view
fn get_partial(bytes key, u64 cap) -> bytes view
fn remove(bytes key) -> bool
fn raw_storage(u64 key_len, u64 value_len)
fn emit(bytes data)
fn emit_many(u64 n)
fn context() -> bytes view
fn block_hash(u64 n) -> bytes view
fn balance_of(address a) -> u128 view
fn pay(address to, u128 amount) -> u64
fn call(address to, bytes input, u128 value, u64 gas) -> bytes
fn call_then_revert(address to, bytes input)
fn deep() -> u64
fn reenter(u64 n) -> u64
fn fail(u8 how)
fn sha256(bytes data) -> bytes view
fn keccak256(bytes data) -> bytes view
fn secp256k1_recover(bytes hash, bytes sig) -> bytes view
fn ed25519_verify(bytes key, bytes sig, bytes msg) -> bool view
fn debug(bytes data)
event Ping(bytes data)
";

pub fn c_string(s: &str) -> String {
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
pub fn header(abi_text: &str) -> String {
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

/// Compiles `tests/contracts/NAME.c` with a header generated from `abi_text`.
pub fn build_c(name: &str, abi_text: &str) -> Vec<u8> {
    build_c_with_header(name, name, &header(abi_text))
}

/// Compiles `tests/contracts/NAME.c` with `header_text` as `sel.h`, in a
/// directory of its own named after `tag`.
pub fn build_c_with_header(name: &str, tag: &str, header_text: &str) -> Vec<u8> {
    // One directory per build: tests of one binary build in parallel.
    static BUILDS: AtomicUsize = AtomicUsize::new(0);
    let n = BUILDS.fetch_add(1, Ordering::Relaxed);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("x64vm-runtime-{tag}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let hdr = dir.join("sel.h");
    std::fs::write(&hdr, header_text).expect("write header");
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
            "-Wno-unused-function",
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

/// The service test contract, built once per test binary.
pub fn svc() -> &'static [u8] {
    static ELF: OnceLock<Vec<u8>> = OnceLock::new();
    ELF.get_or_init(|| build_c("svc", SVC_ABI))
}

/// Bytes as a call-line hex literal.
pub fn hx(b: &[u8]) -> String {
    x64vm_runtime::hex(b)
}

/// Decodes a `bytes` output (u32 length + bytes).
pub fn out_bytes(out: &[u8]) -> Vec<u8> {
    assert!(out.len() >= 4, "short bytes output {out:?}");
    let n = u32::from_le_bytes(out[..4].try_into().unwrap()) as usize;
    assert_eq!(out.len(), 4 + n, "bytes output length");
    out[4..].to_vec()
}
