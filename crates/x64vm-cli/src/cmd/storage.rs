//! `x64vm storage ADDR [KEY]`: a contract's storage.

use clap::Args;
use serde_json::json;

use super::chain::{CliError, Global, Report, key_bytes, open_existing};

/// Arguments of `x64vm storage`.
#[derive(Args, Debug)]
pub struct StorageArgs {
    /// The contract: its alias or 0x address.
    pub contract: String,
    /// One key: text, or 0x hex bytes.
    pub key: Option<String>,
}

fn show_key(k: &[u8]) -> String {
    let printable = !k.is_empty() && k.iter().all(|&b| (0x20..0x7f).contains(&b) && b != b'"');
    if printable {
        format!("\"{}\"", String::from_utf8_lossy(k))
    } else {
        // A readable prefix (e.g. "balances\0" ‖ address) stays readable.
        let n = k
            .iter()
            .take_while(|&&b| (0x21..0x7f).contains(&b) && b != b'"')
            .count();
        if n >= 2 {
            let rest = &k[n..];
            format!(
                "\"{}\" ‖ {}",
                String::from_utf8_lossy(&k[..n]),
                x64vm_runtime::hex(rest)
            )
        } else {
            x64vm_runtime::hex(k)
        }
    }
}

fn show_value(v: &[u8]) -> String {
    let mut s = x64vm_runtime::hex(v);
    match v.len() {
        8 => s.push_str(&format!(
            "  (u64 {})",
            u64::from_le_bytes(v.try_into().unwrap_or_default())
        )),
        16 => s.push_str(&format!(
            "  (u128 {})",
            u128::from_le_bytes(v.try_into().unwrap_or_default())
        )),
        _ => {}
    }
    s
}

/// Prints the entries.
pub fn storage(a: &StorageArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open_existing(g)?;
    let c = chain.resolve_contract(&a.contract)?;
    let key = a.key.as_deref().map(key_bytes).transpose()?;
    let entries = chain.storage(&c, key.as_deref())?;
    let mut text = String::new();
    for (k, v) in &entries {
        text.push_str(&format!("{}\n    = {}\n", show_key(k), show_value(v)));
    }
    if entries.is_empty() {
        text.push_str(match key {
            Some(_) => "no such key\n",
            None => "empty\n",
        });
    }
    let json: Vec<_> = entries
        .iter()
        .map(|(k, v)| {
            json!({
                "key": x64vm_runtime::hex(k),
                "key_text": std::str::from_utf8(k).ok(),
                "value": x64vm_runtime::hex(v),
            })
        })
        .collect();
    let code = if a.key.is_some() && entries.is_empty() {
        1
    } else {
        0
    };
    let mut rep = Report::ok(json.into(), text);
    rep.code = code;
    Ok(rep)
}
