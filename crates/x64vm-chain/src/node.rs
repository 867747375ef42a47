//! `x64vm node`: the chain over JSON-RPC 2.0 on HTTP/1.1, for scripts and
//! wallets.
//!
//! A small server on `std::net`: one thread per connection (at most
//! [`NodeConfig::max_connections`] at once; more are answered 503), one
//! request per connection (`Connection: close`), bounded header and body sizes
//! (431 and 413 beyond them), read and write timeouts. Reads run concurrently
//! on their own database snapshots; writes are serialized by the database.
//! Shutdown (the `shutdown` method, or the flag the caller sets on SIGINT or
//! SIGTERM) stops accepting, lets requests in progress finish (so a commit
//! under way completes), then returns.
//!
//! `POST /` with a JSON-RPC request or batch. Methods and their (named)
//! parameters, amounts as decimal strings or numbers, accounts as names
//! (`"alice"`), aliases or `0x` addresses:
//!
//! | method | params | result |
//! |---|---|---|
//! | `accounts` | – | accounts with balances and nonces |
//! | `contracts` | – | deployed contracts |
//! | `deploy` | `code` (hex), `ctor`?, `alias`?, `from`?, `value`?, `gas`?, `dry_run`? | receipt |
//! | `call` | `to`, `call` (call line) or `input` (hex), `from`?, `value`?, `gas`?, `dry_run`? | receipt |
//! | `query` | `to`, `call` or `input` | receipt |
//! | `receipt` | `id` | receipt |
//! | `logs` | `contract`?, `event`? | events |
//! | `storage` | `address`, `key`? (hex `0x…` or text) | entries |
//! | `block` | `number`? (default: head) | block |
//! | `snapshot` | – | snapshot id |
//! | `revert` | `id` | `true` |
//! | `mine` | `blocks`? (default 1) | the new head block |
//! | `set_balance` | `account`, `balance` | `true` |
//! | `shutdown` | – | `true`, then the node stops |
//!
//! A reverted or trapped call is a result (a receipt whose `status` says so),
//! not a JSON-RPC error. Errors: -32700 parse error, -32600 invalid request,
//! -32601 unknown method, -32602 invalid params (including call lines that do
//! not match the ABI), -32001 not found, -32003 rejected transaction, -32000
//! other chain errors; `error.data.kind` is a stable name.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use x64vm_runtime::Address;

use crate::chain::{Chain, LogFilter, TxOptions};
use crate::error::ChainError;
use crate::receipt::serde_fmt::parse_hex;

/// Limits of the server.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Largest request body (bytes).
    pub max_body: usize,
    /// Largest request line plus headers (bytes).
    pub max_header: usize,
    /// Connections served at once.
    pub max_connections: usize,
    /// Requests in one batch.
    pub max_batch: usize,
    /// Read/write timeout of a connection.
    pub io_timeout: Duration,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            max_body: 16 << 20,
            max_header: 16 << 10,
            max_connections: 32,
            max_batch: 100,
            io_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves `chain` on `listener` until `shutdown` is set (by the caller, or by
/// the `shutdown` method). Requests in progress finish before it returns.
///
/// # Errors
/// When the listener cannot be made non-blocking.
pub fn serve(
    chain: Arc<Chain>,
    listener: TcpListener,
    shutdown: Arc<AtomicBool>,
    config: &NodeConfig,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let active = Arc::new(AtomicUsize::new(0));
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !shutdown.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                workers.retain(|h| !h.is_finished());
                if active.load(Ordering::SeqCst) >= config.max_connections {
                    let _ = stream.set_nonblocking(false);
                    let mut s = stream;
                    let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
                    let _ = respond(&mut s, 503, "Service Unavailable", b"busy\n", "text/plain");
                    continue;
                }
                active.fetch_add(1, Ordering::SeqCst);
                let (c_chain, c_shutdown, c_active, c_config) = (
                    chain.clone(),
                    shutdown.clone(),
                    active.clone(),
                    config.clone(),
                );
                let spawned = std::thread::Builder::new()
                    .name("x64vm-node-conn".into())
                    .spawn(move || {
                        // A panic (a bug, or a damaged state file) ends this
                        // request, not the node.
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            connection(stream, &c_chain, &c_shutdown, &c_config)
                        }));
                        if r.is_err() {
                            eprintln!("x64vm node: a request failed with an internal error");
                        }
                        c_active.fetch_sub(1, Ordering::SeqCst);
                    });
                match spawned {
                    Ok(h) => workers.push(h),
                    Err(e) => {
                        active.fetch_sub(1, Ordering::SeqCst);
                        eprintln!("x64vm node: cannot start a thread: {e}");
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("x64vm node: accept: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    for h in workers {
        let _ = h.join();
    }
    Ok(())
}

fn respond(
    s: &mut TcpStream,
    code: u16,
    reason: &str,
    body: &[u8],
    content_type: &str,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\nAccess-Control-Allow-Origin: *\r\n\
         Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n\
         Access-Control-Allow-Headers: content-type\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    s.flush()
}

/// A parsed request head.
struct Head {
    method: String,
    content_length: Option<usize>,
    chunked: bool,
    expect_continue: bool,
}

enum HeadError {
    Io,
    TooLarge,
    Malformed(&'static str),
}

/// Reads up to the end of the headers; returns the head and the body bytes
/// already read.
/// Reads from a socket whose read timeout is short, until data, the end,
/// the deadline or shutdown.
fn read_some(
    s: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
    shutdown: &AtomicBool,
) -> Option<usize> {
    loop {
        if Instant::now() > deadline || shutdown.load(Ordering::SeqCst) {
            return None;
        }
        match s.read(buf) {
            Ok(n) => return Some(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
}

fn read_head(
    s: &mut TcpStream,
    config: &NodeConfig,
    deadline: Instant,
    shutdown: &AtomicBool,
) -> Result<(Head, Vec<u8>), HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        if buf.len() > config.max_header {
            return Err(HeadError::TooLarge);
        }
        match read_some(s, &mut chunk, deadline, shutdown) {
            None | Some(0) => return Err(HeadError::Io),
            Some(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    if end > config.max_header {
        return Err(HeadError::TooLarge);
    }
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| HeadError::Malformed("not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let mut parts = request.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let _path = parts.next().ok_or(HeadError::Malformed("no path"))?;
    let version = parts.next().ok_or(HeadError::Malformed("no version"))?;
    if !version.starts_with("HTTP/1.") || method.is_empty() {
        return Err(HeadError::Malformed("not HTTP/1.x"));
    }
    let mut head = Head {
        method,
        content_length: None,
        chunked: false,
        expect_continue: false,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(HeadError::Malformed("bad header line"));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                let n = value
                    .parse::<usize>()
                    .map_err(|_| HeadError::Malformed("bad Content-Length"))?;
                if head.content_length.is_some_and(|m| m != n) {
                    return Err(HeadError::Malformed("conflicting Content-Length"));
                }
                head.content_length = Some(n);
            }
            "transfer-encoding" => head.chunked = true,
            "expect" => head.expect_continue = value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
    }
    Ok((head, buf[end + 4..].to_vec()))
}

fn connection(mut s: TcpStream, chain: &Chain, shutdown: &AtomicBool, config: &NodeConfig) {
    // Short read timeouts, so that an idle client cannot delay shutdown; the
    // whole request must arrive within `io_timeout`.
    let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = s.set_write_timeout(Some(config.io_timeout));
    let deadline = Instant::now() + config.io_timeout;
    let text = "text/plain";
    let (head, mut body) = match read_head(&mut s, config, deadline, shutdown) {
        Ok(h) => h,
        Err(HeadError::Io) => return,
        Err(HeadError::TooLarge) => {
            let _ = respond(
                &mut s,
                431,
                "Request Header Fields Too Large",
                b"headers too large\n",
                text,
            );
            return;
        }
        Err(HeadError::Malformed(m)) => {
            let _ = respond(
                &mut s,
                400,
                "Bad Request",
                format!("{m}\n").as_bytes(),
                text,
            );
            return;
        }
    };
    match head.method.as_str() {
        "POST" => {}
        "OPTIONS" => {
            let _ = respond(&mut s, 204, "No Content", b"", text);
            return;
        }
        "GET" => {
            let info = match chain.head() {
                Ok(b) => json!({"x64vm_node": true, "head": b, "params": chain.params()}),
                Err(e) => json!({"x64vm_node": true, "error": e.to_string()}),
            };
            let _ = respond(
                &mut s,
                200,
                "OK",
                info.to_string().as_bytes(),
                "application/json",
            );
            return;
        }
        _ => {
            let _ = respond(&mut s, 405, "Method Not Allowed", b"use POST\n", text);
            return;
        }
    }
    if head.chunked {
        let _ = respond(
            &mut s,
            411,
            "Length Required",
            b"chunked bodies are not accepted; send Content-Length\n",
            text,
        );
        return;
    }
    let Some(len) = head.content_length else {
        let _ = respond(
            &mut s,
            411,
            "Length Required",
            b"Content-Length required\n",
            text,
        );
        return;
    };
    if len > config.max_body {
        let _ = respond(
            &mut s,
            413,
            "Content Too Large",
            format!("body over {} bytes\n", config.max_body).as_bytes(),
            text,
        );
        return;
    }
    if head.expect_continue && body.len() < len {
        let _ = s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let mut chunk = [0u8; 8192];
    while body.len() < len {
        match read_some(&mut s, &mut chunk, deadline, shutdown) {
            None | Some(0) => return,
            Some(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(len);
    match handle(chain, &body, shutdown, config) {
        Some(v) => {
            let _ = respond(
                &mut s,
                200,
                "OK",
                v.to_string().as_bytes(),
                "application/json",
            );
        }
        None => {
            let _ = respond(&mut s, 204, "No Content", b"", text);
        }
    }
}

/// Handles one JSON-RPC body (a request or a batch); `None` when there is
/// nothing to answer (only notifications).
pub fn handle(
    chain: &Chain,
    body: &[u8],
    shutdown: &AtomicBool,
    config: &NodeConfig,
) -> Option<Value> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Some(error(
                Value::Null,
                -32700,
                &format!("parse error: {e}"),
                None,
            ));
        }
    };
    match v {
        Value::Array(items) => {
            if items.is_empty() {
                return Some(error(Value::Null, -32600, "empty batch", None));
            }
            if items.len() > config.max_batch {
                return Some(error(
                    Value::Null,
                    -32600,
                    &format!(
                        "batch of {} requests (at most {})",
                        items.len(),
                        config.max_batch
                    ),
                    None,
                ));
            }
            let out: Vec<Value> = items
                .into_iter()
                .filter_map(|r| one(chain, r, shutdown))
                .collect();
            if out.is_empty() {
                None
            } else {
                Some(Value::Array(out))
            }
        }
        v => one(chain, v, shutdown),
    }
}

fn error(id: Value, code: i64, message: &str, kind: Option<&str>) -> Value {
    let mut e = json!({"code": code, "message": message});
    if let Some(k) = kind {
        e["data"] = json!({ "kind": k });
    }
    json!({"jsonrpc": "2.0", "id": id, "error": e})
}

fn one(chain: &Chain, req: Value, shutdown: &AtomicBool) -> Option<Value> {
    let Value::Object(obj) = req else {
        return Some(error(
            Value::Null,
            -32600,
            "a request must be an object",
            None,
        ));
    };
    let id = obj.get("id").cloned();
    let reply_id = id.clone().unwrap_or(Value::Null);
    if !matches!(reply_id, Value::Null | Value::Number(_) | Value::String(_)) {
        return Some(error(
            Value::Null,
            -32600,
            "id must be a number, string or null",
            None,
        ));
    }
    if obj.get("jsonrpc").and_then(|v| v.as_str()) != Some("2.0") {
        return Some(error(reply_id, -32600, "jsonrpc must be \"2.0\"", None));
    }
    let Some(method) = obj.get("method").and_then(|m| m.as_str()) else {
        return Some(error(reply_id, -32600, "method must be a string", None));
    };
    let empty = Map::new();
    let params = match obj.get("params") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(p)) => p,
        Some(Value::Array(a)) if a.is_empty() => &empty,
        Some(_) => {
            return Some(error(
                reply_id,
                -32602,
                "params must be an object of named parameters",
                None,
            ));
        }
    };
    let result = dispatch(chain, method, params, shutdown);
    // Notifications (no id) get no answer.
    id.as_ref()?;
    Some(match result {
        Ok(v) => json!({"jsonrpc": "2.0", "id": reply_id, "result": v}),
        Err(RpcError::Method) => error(
            reply_id,
            -32601,
            &format!("unknown method {method:?}"),
            None,
        ),
        Err(RpcError::Params(m)) => error(reply_id, -32602, &m, Some("invalid_params")),
        Err(RpcError::Chain(e)) => {
            let code = match &e {
                ChainError::BadInput(_) => -32602,
                ChainError::NotFound(_) => -32001,
                ChainError::Rejected(_) => -32003,
                _ => -32000,
            };
            error(reply_id, code, &e.to_string(), Some(e.kind()))
        }
    })
}

enum RpcError {
    Method,
    Params(String),
    Chain(ChainError),
}

impl From<ChainError> for RpcError {
    fn from(e: ChainError) -> Self {
        RpcError::Chain(e)
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, RpcError> {
    serde_json::to_value(v).map_err(|e| RpcError::Chain(ChainError::Db(e.to_string())))
}

struct P<'a>(&'a Map<String, Value>);

impl P<'_> {
    fn str(&self, k: &str) -> Result<Option<&str>, RpcError> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(RpcError::Params(format!("{k} must be a string"))),
        }
    }

    fn need_str(&self, k: &str) -> Result<&str, RpcError> {
        self.str(k)?
            .ok_or_else(|| RpcError::Params(format!("missing parameter {k}")))
    }

    fn u64(&self, k: &str) -> Result<Option<u64>, RpcError> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| RpcError::Params(format!("{k} must be a non-negative integer"))),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| RpcError::Params(format!("{k} must be a non-negative integer"))),
            Some(_) => Err(RpcError::Params(format!("{k} must be an integer"))),
        }
    }

    fn amount(&self, k: &str) -> Result<Option<u128>, RpcError> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(|v| Some(u128::from(v)))
                .ok_or_else(|| RpcError::Params(format!("{k} must be a non-negative integer"))),
            Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
                RpcError::Params(format!("{k} must be a decimal amount up to 2^128-1"))
            }),
            Some(_) => Err(RpcError::Params(format!("{k} must be an amount"))),
        }
    }

    fn bool(&self, k: &str) -> Result<bool, RpcError> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(RpcError::Params(format!("{k} must be true or false"))),
        }
    }

    fn hex(&self, k: &str) -> Result<Option<Vec<u8>>, RpcError> {
        match self.str(k)? {
            None => Ok(None),
            Some(s) => parse_hex(s)
                .map(Some)
                .ok_or_else(|| RpcError::Params(format!("{k} must be hex bytes"))),
        }
    }

    fn tx(&self, chain: &Chain) -> Result<TxOptions, RpcError> {
        let from = self.str("from")?.unwrap_or("alice");
        Ok(TxOptions {
            from: chain.resolve_account(from)?,
            value: self.amount("value")?.unwrap_or(0),
            gas: self.u64("gas")?,
            dry_run: self.bool("dry_run")?,
        })
    }

    fn contract(&self, chain: &Chain, k: &str) -> Result<Address, RpcError> {
        Ok(chain.resolve_contract(self.need_str(k)?)?)
    }
}

fn dispatch(
    chain: &Chain,
    method: &str,
    params: &Map<String, Value>,
    shutdown: &AtomicBool,
) -> Result<Value, RpcError> {
    let p = P(params);
    match method {
        "accounts" => to_value(&chain.accounts()?),
        "contracts" => to_value(&chain.contracts()?),
        "deploy" => {
            let code = p
                .hex("code")?
                .ok_or_else(|| RpcError::Params("missing parameter code (hex)".into()))?;
            let opts = p.tx(chain)?;
            let r = chain.deploy(&code, p.str("ctor")?, p.str("alias")?, &opts)?;
            to_value(&r)
        }
        "call" => {
            let to = p.contract(chain, "to")?;
            let opts = p.tx(chain)?;
            let r = match (p.str("call")?, p.hex("input")?) {
                (Some(line), None) => chain.call(&to, line, &opts)?,
                (None, Some(input)) => chain.call_raw(&to, &input, &opts)?,
                _ => {
                    return Err(RpcError::Params(
                        "give one of call (a call line) or input (hex)".into(),
                    ));
                }
            };
            to_value(&r)
        }
        "query" => {
            let to = p.contract(chain, "to")?;
            let r = match (p.str("call")?, p.hex("input")?) {
                (Some(line), None) => chain.query(&to, line)?,
                (None, Some(input)) => chain.query_raw(&to, &input)?,
                _ => {
                    return Err(RpcError::Params(
                        "give one of call (a call line) or input (hex)".into(),
                    ));
                }
            };
            to_value(&r)
        }
        "receipt" => {
            let id = p
                .u64("id")?
                .ok_or_else(|| RpcError::Params("missing parameter id".into()))?;
            match chain.receipt(id)? {
                Some(r) => to_value(&r),
                None => Err(ChainError::NotFound(format!("receipt {id}")).into()),
            }
        }
        "logs" => {
            let contract = match p.str("contract")? {
                Some(c) => Some(chain.resolve_contract(c)?),
                None => None,
            };
            let filter = LogFilter {
                contract,
                event: p.str("event")?.map(str::to_string),
            };
            to_value(&chain.logs(&filter)?)
        }
        "storage" => {
            let a = p.contract(chain, "address")?;
            let key = match p.str("key")? {
                Some(k) if k.starts_with("0x") => Some(
                    parse_hex(k).ok_or_else(|| RpcError::Params("key: malformed hex".into()))?,
                ),
                Some(k) => Some(k.as_bytes().to_vec()),
                None => None,
            };
            let entries: Vec<Value> = chain
                .storage(&a, key.as_deref())?
                .into_iter()
                .map(|(k, v)| {
                    json!({"key": x64vm_runtime::hex(&k), "value": x64vm_runtime::hex(&v)})
                })
                .collect();
            Ok(Value::Array(entries))
        }
        "block" => {
            let b = match p.u64("number")? {
                Some(n) => chain
                    .block(n)?
                    .ok_or_else(|| ChainError::NotFound(format!("block {n}")))?,
                None => chain.head()?,
            };
            to_value(&b)
        }
        "snapshot" => Ok(json!(chain.snapshot()?)),
        "revert" => {
            let id = p
                .u64("id")?
                .ok_or_else(|| RpcError::Params("missing parameter id".into()))?;
            chain.revert(id)?;
            Ok(Value::Bool(true))
        }
        "mine" => {
            let n = p.u64("blocks")?.unwrap_or(1);
            if n > 1_000_000 {
                return Err(RpcError::Params("at most 1000000 blocks at once".into()));
            }
            to_value(&chain.mine(n)?)
        }
        "set_balance" => {
            let a = chain.resolve_account(p.need_str("account")?)?;
            let b = p
                .amount("balance")?
                .ok_or_else(|| RpcError::Params("missing parameter balance".into()))?;
            chain.set_balance(&a, b)?;
            Ok(Value::Bool(true))
        }
        "shutdown" => {
            shutdown.store(true, Ordering::SeqCst);
            Ok(Value::Bool(true))
        }
        _ => Err(RpcError::Method),
    }
}
