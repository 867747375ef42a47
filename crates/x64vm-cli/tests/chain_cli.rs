//! The local chain through the real `x64vm` binary and a real state file:
//! the example token in C, C++ and Rust (deploy, call, query, receipt, logs,
//! storage, trace, gas report), exit codes on revert, trap and out-of-gas,
//! `--json` documents parsed field by field, bad state files, and the node
//! over HTTP on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_x64vm");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("x64vm-chain-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `x64vm --json --state STATE ARGS`; returns the exit code, the one JSON
/// document on stdout, and stderr.
fn run_json(state: &Path, args: &[&str]) -> (i32, Value, String) {
    let o = Command::new(BIN)
        .arg("--json")
        .arg("--state")
        .arg(state)
        .args(args)
        .output()
        .expect("run x64vm");
    let stdout = String::from_utf8(o.stdout).expect("UTF-8 stdout");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    // Exactly one JSON document: the whole of stdout parses as one value.
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("x64vm {args:?}: stdout is not one JSON document ({e}):\n{stdout}\nstderr: {stderr}")
    });
    (o.status.code().unwrap_or(-1), v, stderr)
}

/// Runs `x64vm --state STATE ARGS` with readable output.
fn run_text(state: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(BIN)
        .arg("--state")
        .arg(state)
        .args(args)
        .output()
        .expect("run x64vm");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

fn compile(cmd: &str, std: &str, src: &Path, out: &Path, extra: &[&str]) {
    let o = Command::new(cmd)
        .args([
            std,
            "-O2",
            "-static",
            "-nostdlib",
            "-ffreestanding",
            "-fno-pie",
            "-no-pie",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
        ])
        .args(extra)
        .arg("-I")
        .arg(root().join("sdk/c/include"))
        .arg("-o")
        .arg(out)
        .arg(src)
        .arg("-lgcc")
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        o.status.success(),
        "{cmd} {}: {}",
        src.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The example token, built the documented way; `None` when its source is
/// not in the tree.
fn token(lang: &str) -> Option<PathBuf> {
    static C: OnceLock<Option<PathBuf>> = OnceLock::new();
    static CPP: OnceLock<Option<PathBuf>> = OnceLock::new();
    static RUST: OnceLock<Option<PathBuf>> = OnceLock::new();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("x64vm-chain-cli-tokens");
    std::fs::create_dir_all(&dir).unwrap();
    match lang {
        "c" => C
            .get_or_init(|| {
                let src = root().join("examples/token/c/token.c");
                let out = dir.join("token.elf");
                src.exists().then(|| {
                    compile("gcc", "-std=c11", &src, &out, &[]);
                    out
                })
            })
            .clone(),
        "cpp" => CPP
            .get_or_init(|| {
                let src = root().join("examples/token/cpp/token.cpp");
                let out = dir.join("token_cpp.elf");
                src.exists().then(|| {
                    compile(
                        "g++",
                        "-std=c++17",
                        &src,
                        &out,
                        &["-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics"],
                    );
                    out
                })
            })
            .clone(),
        _ => RUST
            .get_or_init(|| {
                let pkg = root().join("examples/token/rust");
                if !pkg.join("Cargo.toml").exists() {
                    return None;
                }
                let target = dir.join("rust-target");
                let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
                let mut cmd = Command::new(cargo);
                cmd.current_dir(&pkg)
                    .args(["build", "--release", "--quiet", "--target-dir"])
                    .arg(&target);
                for var in [
                    "RUSTFLAGS",
                    "CARGO_ENCODED_RUSTFLAGS",
                    "CARGO_BUILD_RUSTFLAGS",
                    "CARGO_BUILD_TARGET",
                    "CARGO_TARGET_DIR",
                    "CARGO_BUILD_TARGET_DIR",
                ] {
                    cmd.env_remove(var);
                }
                let o = cmd.output().expect("cargo runs");
                assert!(
                    o.status.success(),
                    "building the Rust token: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                Some(target.join("x86_64-unknown-linux-gnu/release/token"))
            })
            .clone(),
    }
}

fn addr_of(name: &str) -> String {
    x64vm_runtime::hex(&x64vm_runtime::address_of_name(name))
}

/// The whole flow on one token, checked field by field.
fn token_flow(lang: &str) {
    let Some(elf) = token(lang) else {
        eprintln!("the {lang} example token is not in the tree; skipped");
        return;
    };
    let dir = temp_dir(&format!("token-{lang}"));
    let state = dir.join("chain/state.redb");
    let elf_s = elf.to_str().unwrap();

    let (code, v, _) = run_json(&state, &["init"]);
    assert_eq!(code, 0);
    assert_eq!(v["head"]["number"], 0);
    assert_eq!(v["accounts"][0]["name"], "alice");
    assert_eq!(v["accounts"][1]["address"], addr_of("bob"));
    // A second init refuses to overwrite.
    let (code, v, _) = run_json(&state, &["init"]);
    assert_eq!(code, 2);
    assert_eq!(v["error"]["kind"], "state_exists");

    let (code, d, _) = run_json(
        &state,
        &["deploy", elf_s, r#"mint("alice", 1000)"#, "--alias", "tok"],
    );
    assert_eq!(code, 0, "{d}");
    assert_eq!(d["id"], 1);
    assert_eq!(d["kind"], "deploy");
    assert_eq!(d["status"], "success");
    assert_eq!(d["alias"], "tok");
    assert_eq!(d["function"], "mint(address,u128)");
    assert_eq!(d["block"], 1);
    assert_eq!(d["from"], addr_of("alice"));
    assert_eq!(d["events"][0]["name"], "Transfer");
    assert_eq!(d["events"][0]["fields"][1]["value"], addr_of("alice"));
    assert_eq!(d["events"][0]["fields"][2]["value"], "1000");
    let token_addr = d["to"].as_str().unwrap().to_string();

    let (code, r, _) = run_json(&state, &["call", "tok", r#"transfer("bob", 250)"#]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["id"], 2);
    assert_eq!(r["status"], "success");
    assert_eq!(r["error"], Value::Null);
    assert_eq!(r["decoded_output"], "true");
    assert_eq!(r["output"], "0x01");
    assert_eq!(r["function"], "transfer(address,u128)");
    let gas_used = r["gas_used"].as_u64().unwrap();
    assert!(gas_used > 0 && gas_used < r["gas_limit"].as_u64().unwrap());
    assert_eq!(r["fee"], gas_used.to_string());
    let ev = &r["events"][0];
    assert_eq!(ev["address"], token_addr.as_str());
    assert_eq!(ev["alias"], "tok");
    assert_eq!(ev["name"], "Transfer");
    assert_eq!(ev["fields"][0]["name"], "from");
    assert_eq!(ev["fields"][0]["type"], "address");
    assert_eq!(ev["fields"][0]["value"], addr_of("alice"));
    assert_eq!(ev["fields"][1]["value"], addr_of("bob"));
    assert_eq!(ev["fields"][2]["value"], "250");
    assert!(
        ev["decoded"]
            .as_str()
            .unwrap()
            .starts_with("Transfer(from: ")
    );
    assert_eq!(r["trace"]["gas_used"], gas_used);
    assert_eq!(r["trace"]["function"], "transfer(address,u128)");

    // The address works as well as the alias.
    let (code, q, _) = run_json(&state, &["query", &token_addr, r#"balance_of("bob")"#]);
    assert_eq!(code, 0);
    assert_eq!(q["kind"], "query");
    assert_eq!(q["decoded_output"], "250");
    assert_eq!(q["fee"], "0");

    // A dry run commits nothing.
    let (code, dry, _) = run_json(
        &state,
        &["call", "tok", r#"transfer("carol", 5)"#, "--dry-run"],
    );
    assert_eq!(code, 0);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["id"], 0);
    assert_eq!(dry["events"][0]["fields"][2]["value"], "5");
    let (_, q, _) = run_json(&state, &["query", "tok", r#"balance_of("carol")"#]);
    assert_eq!(q["decoded_output"], "0");

    // A revert: exit code 1, a receipt, nothing changed.
    let (code, bad, _) = run_json(
        &state,
        &[
            "call",
            "tok",
            r#"transfer("bob", 1000000)"#,
            "--from",
            "alice",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(bad["status"], "reverted");
    assert_eq!(bad["error"]["kind"], "reverted");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("token:")
    );
    assert_eq!(bad["events"], json!([]));
    let (_, q, _) = run_json(&state, &["query", "tok", r#"balance_of("alice")"#]);
    assert_eq!(q["decoded_output"], "750");

    // Receipts are kept: the same document as the call printed.
    let (code, rr, _) = run_json(&state, &["receipt", "2"]);
    assert_eq!(code, 0);
    assert_eq!(rr, r);
    let (code, rr, _) = run_json(&state, &["receipt", "3"]);
    assert_eq!(code, 1, "the receipt of a failed call exits 1 too");
    assert_eq!(rr, bad);
    let (code, _, _) = run_json(&state, &["receipt"]);
    assert_eq!(code, 1, "the latest is the failed one");

    let (code, logs, _) = run_json(&state, &["logs", "--event", "Transfer"]);
    assert_eq!(code, 0);
    let logs = logs.as_array().unwrap().clone();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0]["receipt"], 1);
    assert_eq!(logs[1]["receipt"], 2);
    assert_eq!(logs[1]["fields"][2]["value"], "250");
    let (_, none, _) = run_json(&state, &["logs", "--event", "Approval"]);
    assert_eq!(none, json!([]));

    let (code, st, _) = run_json(&state, &["storage", "tok", "total_supply"]);
    assert_eq!(code, 0);
    assert_eq!(st[0]["value"], x64vm_runtime::hex(&1000u128.to_le_bytes()));
    let (_, all, _) = run_json(&state, &["storage", "tok"]);
    assert!(all.as_array().unwrap().len() >= 3);

    let (code, tr, _) = run_json(&state, &["trace", "2", "-v"]);
    assert_eq!(code, 0);
    assert_eq!(tr["tree"]["gas_used"], gas_used);
    assert_eq!(tr["detail"]["rerun_matches"], true);
    let lines = tr["detail"]["lines"].as_array().unwrap();
    assert!(lines[0].as_str().unwrap().starts_with("-> frame 1"));
    let (code, tr, _) = run_json(&state, &["trace", "2", "-vv", "--limit", "50"]);
    assert_eq!(code, 0);
    assert_eq!(tr["detail"]["lines"].as_array().unwrap().len(), 50);
    assert!(tr["detail"]["dropped"].as_u64().unwrap() > 0);

    let (code, gr, _) = run_json(&state, &["gas-report", elf_s]);
    assert_eq!(code, 0);
    let f = gr["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["function"] == "transfer(address,u128)")
        .unwrap()
        .clone();
    assert_eq!(
        (f["calls"].as_u64(), f["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(f["max"], gas_used);

    let (code, acc, _) = run_json(&state, &["accounts"]);
    assert_eq!(code, 0);
    assert_eq!(acc[0]["nonce"], 3);

    // Readable output says the same.
    let (code, text) = run_text(&state, &["receipt", "2"]);
    assert_eq!(code, 0);
    assert!(text.contains("status:   success"), "{text}");
    assert!(text.contains("event:    Transfer(from: "), "{text}");
    assert!(text.contains("amount: 250)"), "{text}");
    let (_, text) = run_text(&state, &["trace", "2"]);
    assert!(text.contains("tok::transfer(address,u128)"), "{text}");
}

#[test]
fn c_token() {
    token_flow("c");
}

#[test]
fn cpp_token() {
    token_flow("cpp");
}

#[test]
fn rust_token() {
    token_flow("rust");
}

/// A contract without an ABI: `go(u8)(how)` reverts (0), traps (1), runs out
/// of gas (2) or returns the byte (3).
const BOOM: &str = r#"
typedef unsigned long u64;
typedef unsigned char u8;
#define HC(N, a, b, c) ({ u64 r_; __asm__ volatile("int %1" : "=a"(r_) : "i"(N), "D"((u64)(a)), "S"((u64)(b)), "d"((u64)(c)) : "memory"); r_; })
__attribute__((noinline)) static void crash(void) {
    u64 a = 8;
    __asm__ volatile("" : "+r"(a));
    *(volatile u64 *)a = 1;
}
__attribute__((noinline)) static void spin(void) { for (;;) __asm__ volatile(""); }
void _start(const u8 *in, u64 len) {
    u8 how = len > 4 ? in[4] : 0;
    if (how == 0) HC(0x23, "no", 2, 0);
    if (how == 1) crash();
    if (how == 2) spin();
    HC(0x22, in + 4, 1, 0);
}
"#;

#[test]
fn exit_codes_on_revert_trap_and_out_of_gas() {
    let dir = temp_dir("boom");
    let src = dir.join("boom.c");
    std::fs::write(&src, BOOM).unwrap();
    let elf = dir.join("boom.elf");
    compile("gcc", "-std=gnu11", &src, &elf, &[]);
    let state = dir.join("state.redb");
    let (code, d, stderr) = run_json(&state, &["deploy", elf.to_str().unwrap()]);
    assert_eq!(code, 0, "{d}");
    assert!(stderr.contains("created a fresh chain"), "{stderr}");
    assert_eq!(d["alias"], "boom");

    let (code, r, _) = run_json(&state, &["call", "boom", "go(u8) -> u8 (3)"]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["decoded_output"], "3");
    let (code, r, _) = run_json(&state, &["call", "boom", "go(u8)(0)"]);
    assert_eq!(code, 1);
    assert_eq!(r["status"], "reverted");
    assert_eq!(r["error"]["message"], "no");
    let (code, r, _) = run_json(&state, &["call", "boom", "go(u8)(1)"]);
    assert_eq!(code, 1);
    assert_eq!(r["status"], "memory_out_of_bounds");
    assert!(r["error"]["rip"].as_str().unwrap().starts_with("0x40"));
    assert!(
        r["error"]["symbol"].as_str().unwrap().starts_with("crash"),
        "{r}"
    );
    let (code, r, _) = run_json(&state, &["call", "boom", "go(u8)(2)", "--gas", "100000"]);
    assert_eq!(code, 1);
    assert_eq!(r["status"], "out_of_gas");
    assert_eq!(r["gas_used"], 100000);
    assert_eq!(r["gas_limit"], 100000);
    let (code, text) = run_text(&state, &["receipt", "4"]);
    assert_eq!(code, 1);
    assert!(text.contains("at:       0x"), "{text}");
    assert!(text.contains(" in crash"), "{text}");
    // Errors that are not transactions: exit 2 and an error document.
    for args in [
        vec!["call", "boom", "go(1)"],
        vec!["call", "nothing", "go(u8)(1)"],
        vec!["call", "boom", "go(u8)(1)", "--from", "0x12"],
        vec!["receipt", "77"],
        vec!["deploy", "/nonexistent/file.elf"],
        vec!["revert", "5"],
    ] {
        let (code, v, stderr) = run_json(&state, &args);
        assert_eq!(code, 2, "{args:?}");
        assert!(v["error"]["kind"].is_string(), "{args:?}: {v}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
    // disasm names the functions.
    let (code, v, _) = run_json(
        &state,
        &["disasm", elf.to_str().unwrap(), "--symbol", "crash"],
    );
    assert_eq!(code, 0);
    assert_eq!(v["functions"][0]["name"], "crash");
    assert!(v["functions"][0]["instructions"].as_array().unwrap().len() >= 2);
}

#[test]
fn bad_state_files() {
    let dir = temp_dir("badstate");
    let garbage = dir.join("garbage.redb");
    std::fs::write(&garbage, b"this is not a database at all, just some text").unwrap();
    let (code, v, stderr) = run_json(&garbage, &["accounts"]);
    assert_eq!(code, 2);
    assert_eq!(v["error"]["kind"], "not_a_state_file");
    assert!(stderr.contains("not an x64vm state file"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Truncated in the middle.
    let good = dir.join("good.redb");
    assert_eq!(run_json(&good, &["init"]).0, 0);
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.join("cut.redb");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, v, stderr) = run_json(&cut, &["accounts"]);
    assert_eq!(code, 2);
    assert_eq!(v["error"]["kind"], "corrupt_state");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Dump and load.
    let dump = dir.join("dump.json");
    let (code, _, _) = run_json(&good, &["dump", "--out", dump.to_str().unwrap()]);
    assert_eq!(code, 0);
    let copy = dir.join("copy.redb");
    let (code, v, _) = run_json(&copy, &["load", dump.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    let (_, a, _) = run_json(&good, &["dump"]);
    let (_, b, _) = run_json(&copy, &["dump"]);
    assert_eq!(a, b);
    assert_eq!(a["format"], "x64vm-state");
}

/// One HTTP POST of a JSON-RPC request.
fn post(addr: SocketAddr, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (code, body)
}

fn rpc(addr: SocketAddr, method: &str, params: Value) -> Value {
    let (code, body) = post(
        addr,
        &json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string(),
    );
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Starts `x64vm node` on an ephemeral port; returns the child and the address.
fn start_node(state: &Path, extra: &[&str]) -> (std::process::Child, SocketAddr) {
    let mut child = Command::new(BIN)
        .args(["--json", "--state"])
        .arg(state)
        .args(["node", "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    let url = v["listening"].as_str().unwrap();
    let addr = url.trim_start_matches("http://").parse().unwrap();
    (child, addr)
}

fn wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the node did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn node_over_http() {
    let Some(elf) = token("c") else {
        return;
    };
    let dir = temp_dir("node");
    let state = dir.join("state.redb");
    let (mut child, addr) = start_node(&state, &["--max-body", "200000"]);
    let code = x64vm_runtime::hex(&std::fs::read(&elf).unwrap());
    let d = rpc(
        addr,
        "deploy",
        json!({"code": code, "ctor": "mint(\"alice\", 500)", "alias": "tok"}),
    );
    assert_eq!(d["id"], 7);
    assert_eq!(d["result"]["status"], "success", "{d}");
    let r = rpc(
        addr,
        "call",
        json!({"to": "tok", "call": "transfer(\"bob\", 20)", "from": "alice"}),
    );
    assert_eq!(r["result"]["decoded_output"], "true");
    let q = rpc(
        addr,
        "query",
        json!({"to": "tok", "call": "balance_of(\"bob\")"}),
    );
    assert_eq!(q["result"]["decoded_output"], "20");
    // The state file is the node's while it runs.
    let (code, v, _) = run_json(&state, &["accounts"]);
    assert_eq!(code, 2);
    assert_eq!(v["error"]["kind"], "state_in_use");
    // Malformed and oversized requests.
    let (c, body) = post(addr, "{]");
    assert_eq!(c, 200);
    assert!(body.contains("-32700"), "{body}");
    let (c, _) = post(addr, &" ".repeat(200_001));
    assert_eq!(c, 413);
    let e = rpc(addr, "call", json!({"to": "tok"}));
    assert_eq!(e["error"]["code"], -32602);
    // Shutdown over RPC: the node exits 0 and every commit is on disk.
    assert_eq!(rpc(addr, "shutdown", json!({}))["result"], true);
    assert!(wait(&mut child).success());
    let (code, r, _) = run_json(&state, &["receipt", "2"]);
    assert_eq!(code, 0);
    assert_eq!(r["decoded_output"], "true");

    // SIGTERM stops it cleanly too.
    let (mut child, addr) = start_node(&state, &[]);
    assert_eq!(
        rpc(addr, "mine", json!({"blocks": 2}))["result"]["number"],
        4
    );
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    assert!(wait(&mut child).success());
    let (_, b, _) = run_json(&state, &["mine", "1"]);
    assert_eq!(b["number"], 5, "the mined blocks were kept");
}
