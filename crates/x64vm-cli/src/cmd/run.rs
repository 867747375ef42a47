//! `x64vm run`: load an ELF, call an entry, print the outcome.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use x64vm::trace::StepTracer;
use x64vm::{Config, Instance, NoHost, Status, load_any};

/// Arguments of `x64vm run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The contract: an ELF file or a packed file (`x64vm pack`).
    pub elf: PathBuf,
    /// A call line such as 'transfer("bob", 100)' (or, without an embedded ABI,
    /// 'transfer(address,u128)("bob", 100)'): deploys the contract into a fresh
    /// in-memory chain, calls it, and prints the receipt with decoded output and
    /// events. Without it, the entry is run directly (--entry/--arg/--input).
    pub call: Option<String>,
    /// The sender of the call (a dev account: alice, bob, carol, dave, eve, or any name).
    #[arg(long, default_value = "alice")]
    pub from: String,
    /// Value sent with the call.
    #[arg(long, default_value_t = 0)]
    pub value: u128,
    /// A constructor call line run in the deploy transaction (e.g. 'init(1000)').
    #[arg(long)]
    pub ctor: Option<String>,
    /// Function symbol (or 0x address) to call instead of the ELF entry point.
    #[arg(long)]
    pub entry: Option<String>,
    /// Call input as hex; passed as pointer/length in RDI/RSI when no --arg is given.
    #[arg(long, default_value = "")]
    pub input: String,
    /// Integer argument (decimal or 0x hex), in RDI, RSI, RDX, RCX, R8, R9 order.
    #[arg(long = "arg", value_parser = parse_u64)]
    pub args: Vec<u64>,
    /// Gas limit.
    #[arg(long, default_value_t = Config::default().gas_limit)]
    pub gas: u64,
    /// Print every executed instruction with the registers it changed (to stderr).
    #[arg(long)]
    pub trace: bool,
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s
            .parse::<u64>()
            .or_else(|_| s.parse::<i64>().map(|v| v as u64)),
    };
    r.map_err(|e| format!("not an integer: {s} ({e})"))
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if !s.len().is_multiple_of(2) {
        return Err("hex input has an odd number of digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16)
                .map_err(|_| format!("bad hex digits at offset {i}"))
        })
        .collect()
}

/// Runs the command; the exit code is 0 on success, 1 on revert or trap.
pub fn run(a: &RunArgs) -> Result<ExitCode, String> {
    if let Some(line) = &a.call {
        return super::run_contract::run(a, line);
    }
    if a.args.len() > 6 {
        return Err("at most 6 --arg values fit in registers".into());
    }
    let bytes = std::fs::read(&a.elf).map_err(|e| format!("{}: {e}", a.elf.display()))?;
    let image = load_any(&bytes).map_err(|e| format!("{}: {e}", a.elf.display()))?;
    let entry = match &a.entry {
        Some(name) => image
            .symbol(name)
            .ok_or_else(|| format!("no symbol named {name}"))?,
        None => image.entry,
    };
    let input = parse_hex(&a.input)?;
    let config = Config {
        gas_limit: a.gas,
        ..Config::default()
    };
    let mut inst = Instance::new(&image, &config, &input).map_err(|e| e.to_string())?;
    inst.prepare_call(entry, &a.args)
        .map_err(|e| e.to_string())?;
    let outcome = if a.trace {
        let mut tracer = StepTracer::new(std::io::stderr().lock());
        inst.run_with(&mut NoHost, &mut tracer)
    } else {
        inst.run(&mut NoHost)
    };
    let mut out = std::io::stdout().lock();
    let w = |out: &mut std::io::StdoutLock<'_>, s: String| {
        let _ = writeln!(out, "{s}");
    };
    w(&mut out, format!("status:   {}", outcome.status.name()));
    if let Status::Trapped(report) = &outcome.status {
        w(&mut out, format!("trap:     {report}"));
    }
    w(&mut out, format!("gas used: {}", outcome.gas_used));
    let hex: String = outcome.output.iter().map(|b| format!("{b:02x}")).collect();
    w(&mut out, format!("output:   0x{hex}"));
    if outcome.output.len() <= 8 && !outcome.output.is_empty() {
        let mut b = [0u8; 8];
        b[..outcome.output.len()].copy_from_slice(&outcome.output);
        w(&mut out, format!("as u64:   {}", u64::from_le_bytes(b)));
    }
    if !outcome.debug.is_empty() {
        w(
            &mut out,
            format!("debug:    {}", String::from_utf8_lossy(&outcome.debug)),
        );
    }
    Ok(match outcome.status {
        Status::Success => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}
