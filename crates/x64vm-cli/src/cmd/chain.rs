//! The local-chain commands (`init`, `deploy`, `call`, ...): their shared
//! options, output and exit codes. Each verb lives in its own file.
//!
//! Output: readable text by default; with `--json`, exactly one JSON document
//! on stdout (an `{"error": {...}}` document on failure), diagnostics and
//! progress on stderr. Exit codes: 0 success, 1 a transaction that did not
//! succeed (reverted, out of gas, trapped: its receipt is printed), 2 an error
//! (bad usage or input, nothing found, an unusable state file).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use x64vm_chain::{Chain, ChainError, Receipt, TxOptions};

/// `--state` and `--json`: accepted before the verb (`x64vm --json call ...`)
/// and after it (`x64vm call ... --json`). Not clap-global, so that `x64vm exec
/// prog --json` still passes `--json` to the program.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// The local chain's state file [default: .x64vm/state.redb; created with a
    /// fresh chain on first use].
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Write exactly one JSON document to stdout (diagnostics go to stderr).
    #[arg(long)]
    pub json: bool,
}

/// The options in effect.
#[derive(Debug, Clone)]
pub struct Global {
    /// The state file.
    pub state: PathBuf,
    /// JSON output.
    pub json: bool,
}

/// A verb's arguments with `--state` and `--json`.
#[derive(Args, Debug)]
pub struct With<T: Args> {
    #[command(flatten)]
    pub args: T,
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// The local-chain commands.
#[derive(Subcommand, Debug)]
pub enum ChainCommand {
    /// Create a fresh local chain (dev accounts alice, bob, carol, dave, eve funded).
    Init(With<super::init::InitArgs>),
    /// List accounts with balances and nonces.
    Accounts(With<super::accounts::AccountsArgs>),
    /// Deploy a contract (ELF or packed), optionally running a constructor call line.
    Deploy(With<super::deploy::DeployArgs>),
    /// Send a transaction calling a contract, e.g. 'transfer("bob", 100)'.
    Call(With<super::call::CallArgs>),
    /// Call a contract read-only (no fee, nothing recorded; writes fail).
    Query(With<super::query::QueryArgs>),
    /// Show a receipt (the latest without an id).
    Receipt(With<super::receipt::ReceiptArgs>),
    /// List events of committed transactions.
    Logs(With<super::logs::LogsArgs>),
    /// Show a contract's storage (all of it, or one key).
    Storage(With<super::storage::StorageArgs>),
    /// Show a transaction's call tree with gas per frame (-v: functions, -vv: instructions).
    Trace(With<super::trace::TraceArgs>),
    /// Disassemble a contract's code, by function.
    Disasm(With<super::disasm::DisasmArgs>),
    /// Gas used per exported function, over a script of calls or the recorded receipts.
    GasReport(With<super::gas_report::GasReportArgs>),
    /// Serve the chain over JSON-RPC on HTTP.
    Node(With<super::node::NodeArgs>),
    /// Record the state; `revert` returns to it.
    Snapshot(With<super::snapshot::SnapshotArgs>),
    /// Return the whole state to a snapshot.
    Revert(With<super::revert::RevertArgs>),
    /// Mine empty blocks.
    Mine(With<super::mine::MineArgs>),
    /// Set an account's balance.
    SetBalance(With<super::set_balance::SetBalanceArgs>),
    /// Write the whole state as one versioned JSON document.
    Dump(With<super::dump::DumpArgs>),
    /// Build a state file from a dump.
    Load(With<super::load::LoadArgs>),
}

/// What a verb produced: the JSON document, its readable form, the exit code.
pub struct Report {
    /// The `--json` document.
    pub json: Value,
    /// The `--json` document already rendered (typed values keep their field
    /// order); printed instead of `json` when set.
    pub rendered: Option<String>,
    /// The readable text (ends with a newline, or is empty).
    pub text: String,
    /// 0, or 1 for a transaction that did not succeed.
    pub code: u8,
}

impl Report {
    /// A successful report.
    pub fn ok(json: Value, text: String) -> Report {
        Report {
            json,
            rendered: None,
            text,
            code: 0,
        }
    }

    /// A successful report of a typed value.
    pub fn typed<T: serde::Serialize>(v: &T, text: String) -> Result<Report, CliError> {
        Ok(Report {
            json: Value::Null,
            rendered: Some(
                serde_json::to_string_pretty(v).map_err(|e| CliError::from(e.to_string()))?,
            ),
            text,
            code: 0,
        })
    }

    /// Nothing more to print (the verb printed its output itself).
    pub fn printed() -> Report {
        Report {
            json: Value::Null,
            rendered: Some(String::new()),
            text: String::new(),
            code: 0,
        }
    }
}

/// A verb's error: a chain error or a plain message.
#[derive(Debug)]
pub struct CliError {
    /// A stable name.
    pub kind: String,
    /// What went wrong.
    pub message: String,
}

impl From<ChainError> for CliError {
    fn from(e: ChainError) -> Self {
        CliError {
            kind: e.kind().into(),
            message: e.to_string(),
        }
    }
}

impl From<String> for CliError {
    fn from(message: String) -> Self {
        CliError {
            kind: "usage".into(),
            message,
        }
    }
}

impl From<&str> for CliError {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

/// Runs a chain command and prints its result; never panics on bad input
/// (a panic from a damaged state file deep in the database is reported as
/// an internal error).
pub fn run(cmd: ChainCommand, top: &GlobalArgs) -> ExitCode {
    let local = local_globals(&cmd);
    let g = Global {
        state: local
            .state
            .clone()
            .or_else(|| top.state.clone())
            .unwrap_or_else(|| PathBuf::from(x64vm_chain::DEFAULT_STATE)),
        json: top.json || local.json,
    };
    let g = &g;
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(cmd, g)));
    let r = r.unwrap_or_else(|_| {
        Err(CliError {
            kind: "internal".into(),
            message: "internal error (is the state file damaged? `x64vm dump` and `x64vm load` \
                      can rebuild it)"
                .into(),
        })
    });
    match r {
        Ok(rep) => {
            let mut out = std::io::stdout().lock();
            if g.json {
                match &rep.rendered {
                    Some(r) if r.is_empty() => {}
                    Some(r) => {
                        let _ = writeln!(out, "{r}");
                    }
                    None => {
                        let _ = writeln!(out, "{}", pretty(&rep.json));
                    }
                }
            } else {
                let _ = out.write_all(rep.text.as_bytes());
            }
            let _ = out.flush();
            ExitCode::from(rep.code)
        }
        Err(e) => {
            eprintln!("error: {}", e.message);
            if g.json {
                let doc = json!({"error": {"kind": e.kind, "message": e.message}});
                println!("{}", pretty(&doc));
            }
            ExitCode::from(2)
        }
    }
}

fn local_globals(cmd: &ChainCommand) -> GlobalArgs {
    use ChainCommand::*;
    match cmd {
        Init(w) => w.global.clone(),
        Accounts(w) => w.global.clone(),
        Deploy(w) => w.global.clone(),
        Call(w) => w.global.clone(),
        Query(w) => w.global.clone(),
        Receipt(w) => w.global.clone(),
        Logs(w) => w.global.clone(),
        Storage(w) => w.global.clone(),
        Trace(w) => w.global.clone(),
        Disasm(w) => w.global.clone(),
        GasReport(w) => w.global.clone(),
        Node(w) => w.global.clone(),
        Snapshot(w) => w.global.clone(),
        Revert(w) => w.global.clone(),
        Mine(w) => w.global.clone(),
        SetBalance(w) => w.global.clone(),
        Dump(w) => w.global.clone(),
        Load(w) => w.global.clone(),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn dispatch(cmd: ChainCommand, g: &Global) -> Result<Report, CliError> {
    use super::*;
    match cmd {
        ChainCommand::Init(w) => init::init(&w.args, g),
        ChainCommand::Accounts(w) => accounts::accounts(&w.args, g),
        ChainCommand::Deploy(w) => deploy::deploy(&w.args, g),
        ChainCommand::Call(w) => call::call(&w.args, g),
        ChainCommand::Query(w) => query::query(&w.args, g),
        ChainCommand::Receipt(w) => receipt::receipt(&w.args, g),
        ChainCommand::Logs(w) => logs::logs(&w.args, g),
        ChainCommand::Storage(w) => storage::storage(&w.args, g),
        ChainCommand::Trace(w) => trace::trace(&w.args, g),
        ChainCommand::Disasm(w) => disasm::disasm(&w.args, g),
        ChainCommand::GasReport(w) => gas_report::gas_report(&w.args, g),
        ChainCommand::Node(w) => node::node(&w.args, g),
        ChainCommand::Snapshot(w) => snapshot::snapshot(&w.args, g),
        ChainCommand::Revert(w) => revert::revert(&w.args, g),
        ChainCommand::Mine(w) => mine::mine(&w.args, g),
        ChainCommand::SetBalance(w) => set_balance::set_balance(&w.args, g),
        ChainCommand::Dump(w) => dump::dump(&w.args, g),
        ChainCommand::Load(w) => load::load(&w.args, g),
    }
}

/// Opens the state file, creating a fresh chain on first use (said on stderr).
pub fn open(g: &Global) -> Result<Chain, CliError> {
    let (chain, created) = Chain::open_or_init(&g.state)?;
    if created {
        eprintln!(
            "x64vm: created a fresh chain in {} (dev accounts: alice, bob, carol, dave, eve)",
            g.state.display()
        );
    }
    Ok(chain)
}

/// Opens an existing state file only.
pub fn open_existing(g: &Global) -> Result<Chain, CliError> {
    Ok(Chain::open(&g.state)?)
}

/// Transaction options shared by `deploy` and `call`.
#[derive(Args, Debug, Clone)]
pub struct TxArgs {
    /// The sender: a name (alice, bob, carol, dave, eve, or any other) or a 0x address.
    #[arg(long, default_value = "alice")]
    pub from: String,
    /// Value sent with the call.
    #[arg(long, default_value_t = 0)]
    pub value: u128,
    /// Gas limit (default: the chain's, 1_000_000_000).
    #[arg(long)]
    pub gas: Option<u64>,
    /// Run and print the full receipt, commit nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl TxArgs {
    /// The chain's options.
    pub fn options(&self, chain: &Chain) -> Result<TxOptions, CliError> {
        Ok(TxOptions {
            from: chain.resolve_account(&self.from)?,
            value: self.value,
            gas: self.gas,
            dry_run: self.dry_run,
        })
    }
}

/// A receipt as a report: exit code 1 unless it succeeded.
pub fn receipt_report(r: &Receipt, extra: &str) -> Result<Report, CliError> {
    let mut rep = Report::typed(r, format!("{r}{extra}"))?;
    rep.code = if r.is_success() { 0 } else { 1 };
    Ok(rep)
}

/// Serializes to a JSON value.
pub fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, CliError> {
    serde_json::to_value(v).map_err(|e| CliError::from(e.to_string()))
}

/// Parses `0x` hex, or takes text as its UTF-8 bytes.
pub fn key_bytes(s: &str) -> Result<Vec<u8>, CliError> {
    if s.starts_with("0x") {
        x64vm_chain::receipt::serde_fmt::parse_hex(s)
            .ok_or_else(|| CliError::from(format!("bad hex key {s:?}")))
    } else {
        Ok(s.as_bytes().to_vec())
    }
}

/// Reads a contract file.
pub fn read_file(p: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(p).map_err(|e| CliError {
        kind: "io".into(),
        message: format!("{}: {e}", p.display()),
    })
}

/// A spinner on stderr for work that may take a while: shown only when
/// stderr is a terminal, and only after half a second.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Starts the indicator with a label.
    pub fn start(label: &str) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Progress { stop, thread: None };
        }
        let (flag, label) = (stop.clone(), label.to_string());
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let frames = ['|', '/', '-', '\\'];
            let mut shown = false;
            let mut i = 0usize;
            while !flag.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
                let t = start.elapsed();
                if t >= Duration::from_millis(500) {
                    shown = true;
                    eprint!("\r{} {label} {:.1}s ", frames[i % 4], t.as_secs_f64());
                    i += 1;
                }
            }
            if shown {
                eprint!("\r{}\r", " ".repeat(label.len() + 16));
            }
        });
        Progress {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A short label for an address: a dev account's name, a contract's alias, or hex.
pub fn label(chain: &Chain, a: &x64vm_runtime::Address) -> String {
    if let Some(n) = x64vm_chain::names::label(a) {
        return n;
    }
    if let Ok(Some(info)) = chain.contract(a)
        && let Some(alias) = info.alias
    {
        return alias;
    }
    x64vm_runtime::hex(a)
}
