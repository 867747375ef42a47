//! `x64vm query ADDR 'f(args)'`: a read-only call.

use clap::Args;

use super::chain::{CliError, Global, Progress, Report, open, receipt_report};

/// Arguments of `x64vm query`.
#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The contract: its alias or 0x address.
    pub contract: String,
    /// The call line, e.g. 'balance_of("bob")'.
    #[arg(required_unless_present = "input")]
    pub call: Option<String>,
    /// Raw input instead of a call line, as hex.
    #[arg(long, conflicts_with = "call")]
    pub input: Option<String>,
}

/// Queries and prints the result; exit code 1 unless it succeeded.
pub fn query(a: &QueryArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open(g)?;
    let to = chain.resolve_contract(&a.contract)?;
    let _p = Progress::start("querying");
    let r = match (&a.call, &a.input) {
        (Some(line), _) => chain.query(&to, line)?,
        (None, Some(hex)) => {
            let input = x64vm_chain::receipt::serde_fmt::parse_hex(hex)
                .ok_or_else(|| CliError::from(format!("--input: bad hex {hex:?}")))?;
            chain.query_raw(&to, &input)?
        }
        (None, None) => return Err("give a call line or --input".into()),
    };
    receipt_report(&r, "")
}
