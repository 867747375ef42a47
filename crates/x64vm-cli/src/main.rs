//! The `x64vm` command.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run x86-64 ELF contracts and programs in a deterministic, gas-metered VM.
#[derive(Parser, Debug)]
#[command(name = "x64vm", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// --state and --json, for the local-chain commands.
    #[command(flatten)]
    chain: cmd::chain::GlobalArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one function of an ELF program and print status, gas and output.
    Run(cmd::run::RunArgs),
    /// Run a static Linux program (musl, glibc -static, Rust std) under the
    /// deterministic Linux profile; exits with the program's exit code.
    Exec(cmd::exec::ExecArgs),
    /// Repack a contract ELF file into x64vm's packed format (prints sizes).
    Pack(cmd::pack::PackArgs),
    /// Show a contract file's format, segments, entry, exports, ABI and sizes.
    Inspect(cmd::inspect::InspectArgs),
    /// Run a contract of the original Echo system with a call line such as
    /// `fib(25)` (the echo profile).
    Echo(cmd::echo::EchoArgs),
    /// The local chain: init, accounts, deploy, call, query, receipt, logs,
    /// storage, trace, disasm, gas-report, node, ...
    #[command(flatten)]
    Chain(cmd::chain::ChainCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd::run::run(&args),
        Command::Exec(args) => cmd::exec::exec(&args),
        Command::Pack(args) => cmd::pack::pack(&args),
        Command::Inspect(args) => cmd::inspect::inspect(&args),
        Command::Echo(args) => cmd::echo::echo(&args),
        Command::Chain(c) => return cmd::chain::run(c, &cli.chain),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
