//! `x64vm node --addr 127.0.0.1:PORT`: serve the chain over JSON-RPC on HTTP
//! until SIGINT, SIGTERM or the `shutdown` method (methods: see
//! `x64vm_chain::node`).

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Args;
use serde_json::json;
use x64vm_chain::node::{NodeConfig, serve};

use super::chain::{CliError, Global, Report, open};

/// Arguments of `x64vm node`.
#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8545")]
    pub addr: String,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = NodeConfig::default().max_body)]
    pub max_body: usize,
}

/// Serves until stopped; the state file is closed cleanly after the requests
/// in progress have finished.
pub fn node(a: &NodeArgs, g: &Global) -> Result<Report, CliError> {
    let chain = Arc::new(open(g)?);
    let listener = TcpListener::bind(&a.addr).map_err(|e| format!("{}: {e}", a.addr))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let shutdown = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, shutdown.clone())
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    // The address first, alone on its line, so scripts can read it.
    let url = format!("http://{local}");
    if g.json {
        println!("{}", json!({ "listening": url }));
    } else {
        println!("listening on {url}");
    }
    let _ = std::io::stdout().flush();
    eprintln!(
        "x64vm node: state {}; stop with Ctrl-C (or the `shutdown` method)",
        g.state.display()
    );
    let config = NodeConfig {
        max_body: a.max_body,
        ..NodeConfig::default()
    };
    serve(chain.clone(), listener, shutdown, &config).map_err(|e| e.to_string())?;
    let head = chain.head()?;
    drop(chain);
    eprintln!("x64vm node: stopped at block {}", head.number);
    // Everything was printed already (with --json, the one document above).
    Ok(Report::printed())
}
