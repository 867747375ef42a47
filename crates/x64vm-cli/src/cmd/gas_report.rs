//! `x64vm gas-report FILE [--script S]`: gas per exported function.
//!
//! With `--script`, the contract is deployed in a fresh in-memory chain (with
//! `--ctor`) and the script's calls are run, one per line:
//!
//! ```text
//! # comments and blank lines are skipped
//! transfer("bob", 100)            a transaction from alice
//! @bob transfer("carol", 5)       from bob
//! query balance_of("bob")         a read-only query
//! ```
//!
//! Without it, the report covers the receipts recorded in the state file for
//! every contract deployed with this file's code.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};
use x64vm_chain::{Chain, Params, Receipt, TxKind, TxOptions};

use super::chain::{CliError, Global, Progress, Report, open_existing, read_file};

/// Arguments of `x64vm gas-report`.
#[derive(Args, Debug)]
pub struct GasReportArgs {
    /// The contract (ELF or packed).
    pub file: PathBuf,
    /// A script of calls to run in a fresh in-memory chain (see `x64vm gas-report --help`).
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// With --script: the constructor call line of the deploy.
    #[arg(long)]
    pub ctor: Option<String>,
}

#[derive(Default)]
struct Stats {
    gas: Vec<u64>,
    failed: u64,
}

fn runs_from_script(
    bytes: &[u8],
    script: &std::path::Path,
    ctor: Option<&str>,
) -> Result<Vec<Receipt>, CliError> {
    let text = std::fs::read_to_string(script).map_err(|e| format!("{}: {e}", script.display()))?;
    let chain = Chain::in_memory(Params::default())?;
    let alice = TxOptions::from_name("alice");
    let d = chain.deploy(bytes, ctor, Some("contract"), &alice)?;
    if !d.is_success() {
        return Err(format!("the deploy failed: {}", d.status).into());
    }
    let mut out = vec![d.clone()];
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |e: x64vm_chain::ChainError| {
            CliError::from(format!("{}:{}: {e}", script.display(), n + 1))
        };
        let (query, rest) = match line.strip_prefix("query ") {
            Some(r) => (true, r.trim()),
            None => (false, line),
        };
        let (from, call) = match rest.strip_prefix('@') {
            Some(r) => {
                let (who, call) = r.split_once(char::is_whitespace).ok_or_else(|| {
                    CliError::from(format!(
                        "{}:{}: expected `@sender call_line`",
                        script.display(),
                        n + 1
                    ))
                })?;
                (who, call.trim())
            }
            None => ("alice", rest),
        };
        let r = if query {
            chain.query(&d.to, call).map_err(at)?
        } else {
            let opts = TxOptions {
                from: chain.resolve_account(from).map_err(at)?,
                ..TxOptions::from_name("alice")
            };
            chain.call(&d.to, call, &opts).map_err(at)?
        };
        out.push(r);
    }
    Ok(out)
}

/// Prints the report.
pub fn gas_report(a: &GasReportArgs, g: &Global) -> Result<Report, CliError> {
    let bytes = read_file(&a.file)?;
    let hash = x64vm_runtime::crypto::keccak256(&bytes);
    let (source, receipts) = match &a.script {
        Some(s) => {
            let _p = Progress::start("running the script");
            (
                format!("script {}", s.display()),
                runs_from_script(&bytes, s, a.ctor.as_deref())?,
            )
        }
        None => {
            let chain = open_existing(g)?;
            let mine: Vec<_> = chain
                .contracts()?
                .into_iter()
                .filter(|c| c.code_hash == hash)
                .map(|c| c.address)
                .collect();
            if mine.is_empty() {
                return Err(format!(
                    "no contract in {} was deployed from {} (deploy it, or use --script)",
                    g.state.display(),
                    a.file.display()
                )
                .into());
            }
            let rs = chain
                .receipts()?
                .into_iter()
                .filter(|r| mine.contains(&r.to))
                .collect();
            (format!("receipts in {}", g.state.display()), rs)
        }
    };
    let mut by_fn: BTreeMap<String, Stats> = BTreeMap::new();
    let mut deploy_gas = Vec::new();
    for r in &receipts {
        if r.kind == TxKind::Deploy {
            deploy_gas.push(r.gas_used);
            if r.function.is_none() {
                continue;
            }
        }
        let name = match (&r.function, r.input.get(..4)) {
            (Some(f), _) => f.clone(),
            (None, Some(sel)) => format!("selector {}", x64vm_runtime::hex(sel)),
            (None, None) => "(no selector)".into(),
        };
        let name = if r.kind == TxKind::Deploy {
            format!("{name} [constructor]")
        } else {
            name
        };
        let s = by_fn.entry(name).or_default();
        s.gas.push(r.gas_used);
        if !r.is_success() {
            s.failed += 1;
        }
    }
    let mut rows: Vec<Value> = Vec::new();
    let mut text = format!(
        "gas report for {} ({} bytes, code {}), from {source}\n",
        a.file.display(),
        bytes.len(),
        &x64vm_runtime::hex(&hash)[..18]
    );
    text.push_str(&format!(
        "{:<40} {:>6} {:>6} {:>10} {:>10} {:>10} {:>10}\n",
        "function", "calls", "failed", "min", "mean", "median", "max"
    ));
    for (name, s) in &mut by_fn {
        s.gas.sort_unstable();
        let n = s.gas.len() as u64;
        let min = s.gas.first().copied().unwrap_or(0);
        let max = s.gas.last().copied().unwrap_or(0);
        let mean = s.gas.iter().sum::<u64>() / n.max(1);
        let median = s.gas.get(s.gas.len() / 2).copied().unwrap_or(0);
        text.push_str(&format!(
            "{name:<40} {n:>6} {:>6} {min:>10} {mean:>10} {median:>10} {max:>10}\n",
            s.failed
        ));
        rows.push(json!({
            "function": name, "calls": n, "failed": s.failed,
            "min": min, "mean": mean, "median": median, "max": max,
        }));
    }
    if by_fn.is_empty() {
        text.push_str("(no calls)\n");
    }
    let json = json!({
        "file": a.file.display().to_string(),
        "code_hash": x64vm_runtime::hex(&hash),
        "size": bytes.len(),
        "source": source,
        "deploys": deploy_gas.len(),
        "functions": rows,
    });
    Ok(Report::ok(json, text))
}
