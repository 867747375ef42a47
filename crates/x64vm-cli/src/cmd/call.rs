//! `x64vm call ADDR 'f(args)'`: send a transaction.

use clap::Args;

use super::chain::{CliError, Global, Progress, Report, TxArgs, open, receipt_report};

/// Arguments of `x64vm call`.
#[derive(Args, Debug)]
pub struct CallArgs {
    /// The contract: its alias or 0x address.
    pub contract: String,
    /// The call line, e.g. 'transfer("bob", 100)' (without an embedded ABI:
    /// 'transfer(address,u128)("bob", 100)').
    #[arg(required_unless_present = "input")]
    pub call: Option<String>,
    /// Raw input instead of a call line: selector and Borsh arguments, as hex.
    #[arg(long, conflicts_with = "call")]
    pub input: Option<String>,
    #[command(flatten)]
    pub tx: TxArgs,
}

/// Calls and prints the receipt; exit code 1 unless it succeeded.
pub fn call(a: &CallArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open(g)?;
    let to = chain.resolve_contract(&a.contract)?;
    let opts = a.tx.options(&chain)?;
    let _p = Progress::start("calling");
    let r = match (&a.call, &a.input) {
        (Some(line), _) => chain.call(&to, line, &opts)?,
        (None, Some(hex)) => {
            let input = x64vm_chain::receipt::serde_fmt::parse_hex(hex)
                .ok_or_else(|| CliError::from(format!("--input: bad hex {hex:?}")))?;
            chain.call_raw(&to, &input, &opts)?
        }
        (None, None) => return Err("give a call line or --input".into()),
    };
    receipt_report(&r, "")
}
