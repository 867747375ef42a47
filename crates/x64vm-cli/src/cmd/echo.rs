//! `x64vm echo`: run a contract of the original Echo system (the echo profile).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use x64vm::Config;
use x64vm::trace::StepTracer;
use x64vm_echo::{EchoContext, call, call_with, echo_config, load_echo};

use super::inspect::decode_hex_text;

/// Arguments of `x64vm echo`.
#[derive(Args, Debug)]
pub struct EchoArgs {
    /// The Echo contract (`ECHO` format, binary or hex text).
    pub file: PathBuf,
    /// The call line, e.g. `fib(25)` or `get_balance("1.2.10", "1.3.0")`.
    pub call: String,
    /// Gas limit.
    #[arg(long, default_value_t = echo_config().gas_limit)]
    pub gas: u64,
    /// Current block number.
    #[arg(long, default_value_t = EchoContext::default().block_number)]
    pub block: u32,
    /// The contract's own id.
    #[arg(long, default_value_t = EchoContext::default().contract_id)]
    pub contract_id: String,
    /// Run as the constructor (deploy) call.
    #[arg(long)]
    pub constructor: bool,
    /// A balance, as ACCOUNT,ASSET=AMOUNT (e.g. 1.2.10,1.3.0=1000); repeatable.
    #[arg(long = "balance")]
    pub balances: Vec<String>,
    /// Print every executed instruction with the registers it changed (to stderr).
    #[arg(long)]
    pub trace: bool,
}

fn balance(s: &str) -> Result<((String, String), i64), String> {
    let bad = || format!("--balance {s}: expected ACCOUNT,ASSET=AMOUNT");
    let (key, amount) = s.split_once('=').ok_or_else(bad)?;
    let (account, asset) = key.split_once(',').ok_or_else(bad)?;
    let amount = amount.trim().parse::<i64>().map_err(|_| bad())?;
    Ok(((account.trim().into(), asset.trim().into()), amount))
}

/// Runs the call; exit code 0 when the error is `none`, else 1.
pub fn echo(a: &EchoArgs) -> Result<ExitCode, String> {
    let name = a.file.display();
    let bytes = decode_hex_text(std::fs::read(&a.file).map_err(|e| format!("{name}: {e}"))?);
    let image = load_echo(&bytes).map_err(|e| format!("{name}: {e}"))?;
    let mut ctx = EchoContext {
        block_number: a.block,
        contract_id: a.contract_id.clone(),
        is_constructor: a.constructor,
        ..EchoContext::default()
    };
    for b in &a.balances {
        let (k, v) = balance(b)?;
        ctx.balances.insert(k, v);
    }
    let config = Config {
        gas_limit: a.gas,
        ..echo_config()
    };
    let out = if a.trace {
        let mut tracer = StepTracer::new(std::io::stderr().lock());
        call_with(&image, &a.call, &ctx, &config, &mut tracer)
    } else {
        call(&image, &a.call, &ctx, &config)
    }
    .map_err(|e| format!("{name}: {e}"))?;
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "error:    {}", out.error);
    if let Some(m) = &out.message {
        let _ = writeln!(o, "message:  {m}");
    }
    let _ = writeln!(o, "gas used: {}", out.gas_used);
    if let Some(r) = &out.result {
        let _ = writeln!(o, "result:   {r} ({})", r.ty().name());
    }
    let hex: String = out.output.iter().map(|b| format!("{b:02x}")).collect();
    let _ = writeln!(o, "output:   0x{hex}");
    Ok(if out.error == "none" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
