//! `x64vm run FILE 'call line'`: deploy into a fresh in-memory chain, call, and
//! print the receipt.

use std::io::Write;
use std::process::ExitCode;

use x64vm_runtime::{TestChain, hex};

use super::run::RunArgs;

/// Deploys `a.elf` from `--from` (running `--ctor` if given), calls `line`,
/// prints status, gas, decoded output and events; exit code 0 on success, 1 on
/// revert or failure.
pub fn run(a: &RunArgs, line: &str) -> Result<ExitCode, String> {
    if a.entry.is_some() || !a.args.is_empty() || !a.input.is_empty() || a.trace {
        return Err(
            "a call line cannot be combined with --entry, --arg, --input or --trace".into(),
        );
    }
    let bytes = std::fs::read(&a.elf).map_err(|e| format!("{}: {e}", a.elf.display()))?;
    let mut chain = TestChain::new();
    let mut out = std::io::stdout().lock();
    let address = match &a.ctor {
        Some(ctor) => {
            let (address, receipt) = chain
                .deploy_with(&bytes, &a.from, ctor)
                .map_err(|e| format!("{}: {e}", a.elf.display()))?;
            let _ = writeln!(out, "constructor:\n{receipt}");
            address
        }
        None => chain
            .deploy(&bytes, &a.from)
            .map_err(|e| format!("{}: {e}", a.elf.display()))?,
    };
    let receipt = chain.call(address, &a.from, line, a.value, a.gas);
    if let x64vm_runtime::ReceiptStatus::Failed { kind, message } = &receipt.status
        && kind == "bad_call"
    {
        return Err(message.clone());
    }
    let _ = writeln!(out, "contract: {}", hex(&address));
    let _ = write!(out, "{receipt}");
    Ok(if receipt.status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
