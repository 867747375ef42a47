//! The JSON-RPC node over real HTTP on loopback: every method, malformed and
//! oversized requests, concurrent clients, shutdown.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use x64vm_chain::node::{NodeConfig, serve};
use x64vm_chain::{Chain, Params};

/// One HTTP exchange: returns the status code and the body.
fn http(addr: SocketAddr, raw: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // The node may answer a bad or oversized request and close before it has read
    // all of it: a failed send is then expected, and the answer is still read.
    let _ = s.write_all(raw);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = match out.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) => out[p + 4..].to_vec(),
        None => Vec::new(),
    };
    (code, body)
}

fn post(addr: SocketAddr, body: &[u8]) -> (u16, Vec<u8>) {
    let mut req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    http(addr, &req)
}

fn rpc(addr: SocketAddr, method: &str, params: Value) -> Value {
    let req = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (code, body) = post(addr, req.to_string().as_bytes());
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).expect("JSON response");
    assert_eq!(v["jsonrpc"], "2.0");
    assert_eq!(v["id"], 1);
    v
}

fn result(addr: SocketAddr, method: &str, params: Value) -> Value {
    let v = rpc(addr, method, params);
    assert!(v.get("error").is_none(), "{method}: {v}");
    v["result"].clone()
}

fn error_code(addr: SocketAddr, method: &str, params: Value) -> i64 {
    let v = rpc(addr, method, params);
    v["error"]["code"].as_i64().unwrap_or_else(|| panic!("{v}"))
}

#[test]
fn json_rpc_over_http() {
    let dir = temp_dir("node");
    let chain = Arc::new(Chain::init(&dir.join("state.redb"), Params::default(), false).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = Arc::new(AtomicBool::new(false));
    let config = NodeConfig {
        max_body: 4 << 20,
        ..NodeConfig::default()
    };
    let server = {
        let (chain, shutdown) = (chain.clone(), shutdown.clone());
        std::thread::spawn(move || serve(chain, listener, shutdown, &config))
    };

    let accts = result(addr, "accounts", json!({}));
    assert_eq!(accts.as_array().unwrap().len(), 5);
    assert_eq!(accts[0]["name"], "alice");
    assert_eq!(accts[0]["balance"], "1000000000000000000000000");

    let code = x64vm_runtime::hex(bank());
    let d = result(
        addr,
        "deploy",
        json!({"code": code, "ctor": "init(1000)", "alias": "bank"}),
    );
    assert_eq!(d["status"], "success");
    assert_eq!(d["alias"], "bank");
    assert_eq!(d["id"], 1);
    assert_eq!(d["events"][0]["name"], "Transfer");
    let bank_addr = d["to"].as_str().unwrap().to_string();

    let r = result(
        addr,
        "call",
        json!({"to": "bank", "call": "transfer(\"bob\", 40)", "from": "alice"}),
    );
    assert_eq!(r["status"], "success");
    assert_eq!(r["decoded_output"], "true");
    assert_eq!(r["events"][0]["fields"][2]["value"], "40");
    let q = result(
        addr,
        "query",
        json!({"to": bank_addr, "call": "balance_of(\"bob\")"}),
    );
    assert_eq!(q["decoded_output"], "40");
    // A revert is a result, not an error.
    let r = result(
        addr,
        "call",
        json!({"to": "bank", "call": "set_then_fail(1, 0)", "gas": 1000000}),
    );
    assert_eq!(r["status"], "reverted");
    assert_eq!(r["error"]["message"], "failing on purpose");
    let dry = result(
        addr,
        "call",
        json!({"to": "bank", "call": "set(9)", "dry_run": true}),
    );
    assert_eq!(dry["dry_run"], true);
    assert_eq!(
        result(addr, "query", json!({"to": "bank", "call": "get()"}))["decoded_output"],
        "0"
    );
    assert_eq!(
        result(addr, "receipt", json!({"id": 2}))["status"],
        "success"
    );
    let logs = result(addr, "logs", json!({"event": "Transfer"}));
    assert_eq!(logs.as_array().unwrap().len(), 2);
    assert_eq!(logs[1]["receipt"], 2);
    let st = result(addr, "storage", json!({"address": "bank", "key": "supply"}));
    assert_eq!(st[0]["key"], x64vm_runtime::hex(b"supply"));

    let snap = result(addr, "snapshot", json!({}));
    let head = result(addr, "mine", json!({"blocks": 3}));
    assert_eq!(head["number"], 6);
    assert_eq!(
        result(
            addr,
            "set_balance",
            json!({"account": "carol", "balance": "5"})
        ),
        true
    );
    assert_eq!(result(addr, "accounts", json!({}))[2]["balance"], "5");
    assert_eq!(result(addr, "revert", json!({"id": snap})), true);
    assert_eq!(result(addr, "block", json!({}))["number"], 3);
    assert_eq!(
        result(addr, "accounts", json!({}))[2]["balance"],
        "1000000000000000000000000"
    );

    // Errors: unknown method, bad params, not found, rejected, bad call lines.
    assert_eq!(error_code(addr, "nope", json!({})), -32601);
    assert_eq!(error_code(addr, "receipt", json!({})), -32602);
    assert_eq!(error_code(addr, "receipt", json!({"id": "x"})), -32602);
    assert_eq!(error_code(addr, "receipt", json!({"id": 99})), -32001);
    assert_eq!(
        error_code(addr, "call", json!({"to": "bank", "call": "nope()"})),
        -32602
    );
    assert_eq!(
        error_code(addr, "call", json!({"to": "missing", "call": "get()"})),
        -32001
    );
    assert_eq!(
        error_code(
            addr,
            "call",
            json!({"to": "bank", "call": "set(1)", "from": "nobody"})
        ),
        -32003
    );
    assert_eq!(error_code(addr, "deploy", json!({"code": "0xzz"})), -32602);
    assert_eq!(error_code(addr, "deploy", json!({"code": "0x00"})), -32000);
    let v = rpc(addr, "revert", json!({"id": 12345}));
    assert_eq!(v["error"]["data"]["kind"], "not_found");

    // Malformed JSON-RPC.
    let (c, b) = post(addr, b"{not json");
    assert_eq!(c, 200);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["error"]["code"], -32700);
    for bad in [
        json!([]),
        json!(5),
        json!({"jsonrpc": "1.0", "id": 1, "method": "accounts"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": 3}),
        json!({"jsonrpc": "2.0", "id": [1], "method": "accounts"}),
    ] {
        let (c, b) = post(addr, bad.to_string().as_bytes());
        assert_eq!(c, 200);
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["error"]["code"], -32600, "{bad}");
    }
    let (_, b) = post(
        addr,
        br#"{"jsonrpc": "2.0", "id": 1, "method": "accounts", "params": 7}"#,
    );
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["error"]["code"], -32602);
    // A batch, with a notification (no answer) in it.
    let (_, b) = post(
        addr,
        br#"[{"jsonrpc":"2.0","id":"a","method":"block"},{"jsonrpc":"2.0","method":"mine"},{"jsonrpc":"2.0","id":"b","method":"nope"}]"#,
    );
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["id"], "a");
    assert_eq!(v[1]["error"]["code"], -32601);
    assert_eq!(
        result(addr, "block", json!({}))["number"],
        4,
        "the notification ran"
    );
    // Only notifications: 204.
    let (c, _) = post(addr, br#"{"jsonrpc":"2.0","method":"accounts"}"#);
    assert_eq!(c, 204);

    // Malformed and oversized HTTP.
    let (c, _) = post(addr, &vec![b' '; (4 << 20) + 1]);
    assert_eq!(c, 413);
    let (c, _) = http(
        addr,
        b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
    );
    assert_eq!(c, 413);
    let mut huge = b"POST / HTTP/1.1\r\n".to_vec();
    for i in 0..2000 {
        huge.extend_from_slice(format!("X-Filler-{i}: aaaaaaaaaaaaaaaaaaaa\r\n").as_bytes());
    }
    huge.extend_from_slice(b"\r\n");
    let (c, _) = http(addr, &huge);
    assert_eq!(c, 431);
    let (c, _) = http(addr, b"POST / HTTP/1.1\r\n\r\n");
    assert_eq!(c, 411);
    let (c, _) = http(
        addr,
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert_eq!(c, 411);
    let (c, _) = http(addr, b"garbage\r\n\r\n");
    assert_eq!(c, 400);
    let (c, _) = http(addr, b"DELETE / HTTP/1.1\r\n\r\n");
    assert_eq!(c, 405);
    let (c, b) = http(addr, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(c, 200);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["x64vm_node"], true);
    // A client that connects and sends nothing does not block the others.
    let idle = TcpStream::connect(addr).unwrap();

    // Concurrent clients: readers and writers at once, every write lands.
    let workers: Vec<_> = (0..6)
        .map(|i| {
            std::thread::spawn(move || {
                for k in 0..5 {
                    if i % 2 == 0 {
                        let r = result(
                            addr,
                            "call",
                            json!({"to": "bank", "call": format!("set({})", i * 10 + k)}),
                        );
                        assert_eq!(r["status"], "success");
                    } else {
                        let q = result(addr, "query", json!({"to": "bank", "call": "get()"}));
                        assert_eq!(q["status"], "success");
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let receipts_before_shutdown = chain.receipts().unwrap().len();
    assert_eq!(receipts_before_shutdown, 3 + 15);
    drop(idle);

    assert_eq!(result(addr, "shutdown", json!({})), true);
    server.join().unwrap().unwrap();
    assert!(TcpStream::connect(addr).is_err(), "stopped listening");
    assert_eq!(chain.receipts().unwrap().len(), receipts_before_shutdown);
}
