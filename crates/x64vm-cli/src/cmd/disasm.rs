//! `x64vm disasm FILE [--symbol F]`: a contract's code, by function, in
//! Intel syntax (iced-x86's formatter), with branch targets named.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use iced_x86::{Decoder, DecoderOptions, FastFormatter, FlowControl, Instruction};
use serde_json::{Value, json};
use x64vm::mem::perm;

use super::chain::{CliError, Global, Report, read_file};

/// Arguments of `x64vm disasm`.
#[derive(Args, Debug)]
pub struct DisasmArgs {
    /// An ELF file or a packed file.
    pub file: PathBuf,
    /// Only this function (a symbol name, or a 0x address).
    #[arg(long)]
    pub symbol: Option<String>,
}

/// A name for `addr`: `sym` or `sym+0xN`.
fn name_of(symbols: &BTreeMap<u64, String>, addr: u64) -> Option<String> {
    let (a, n) = symbols.range(..=addr).next_back()?;
    Some(if *a == addr {
        n.clone()
    } else {
        format!("{n}+{:#x}", addr - a)
    })
}

/// Disassembles and prints.
pub fn disasm(a: &DisasmArgs, _g: &Global) -> Result<Report, CliError> {
    let bytes = read_file(&a.file)?;
    let image = x64vm::load_any(&bytes).map_err(|e| format!("{}: {e}", a.file.display()))?;
    let code: Vec<_> = image
        .segments
        .iter()
        .filter(|s| s.perms & perm::X != 0)
        .collect();
    let in_code = |addr: u64| {
        code.iter()
            .any(|s| s.vaddr <= addr && addr < s.vaddr + s.data.len() as u64)
    };
    // Function symbols: those inside code, by address (the first name wins).
    let mut symbols: BTreeMap<u64, String> = BTreeMap::new();
    for (n, &addr) in &image.symbols {
        if in_code(addr) && !n.is_empty() {
            symbols.entry(addr).or_insert_with(|| n.clone());
        }
    }
    let (start, end) = match &a.symbol {
        None => (0, u64::MAX),
        Some(s) => {
            let addr = image.symbol(s).ok_or_else(|| {
                let mut near: Vec<&String> = image
                    .symbols
                    .keys()
                    .filter(|k| k.contains(s.as_str()) || s.contains(k.as_str()))
                    .take(8)
                    .collect();
                near.sort();
                CliError::from(if near.is_empty() {
                    format!("no symbol {s:?} (a packed file keeps only its exports)")
                } else {
                    format!(
                        "no symbol {s:?}; similar: {}",
                        near.iter()
                            .map(|n| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            })?;
            if !in_code(addr) {
                return Err(format!("{s} ({addr:#x}) is not in executable code").into());
            }
            let next = symbols
                .range(addr + 1..)
                .next()
                .map_or(u64::MAX, |(a, _)| *a);
            (addr, next)
        }
    };
    let mut text = String::new();
    let mut functions: Vec<Value> = Vec::new();
    let mut current: Option<(String, u64, Vec<Value>)> = None;
    let mut fmt = FastFormatter::new();
    let mut count = 0usize;
    for seg in &code {
        let seg_end = seg.vaddr + seg.data.len() as u64;
        if seg_end <= start || seg.vaddr >= end {
            continue;
        }
        let from = start.max(seg.vaddr);
        let data = &seg.data[(from - seg.vaddr) as usize..];
        let mut dec = Decoder::with_ip(64, data, from, DecoderOptions::NONE);
        let mut ins = Instruction::default();
        while dec.can_decode() {
            dec.decode_out(&mut ins);
            let ip = ins.ip();
            if ip >= end {
                break;
            }
            if let Some(n) = symbols.get(&ip).cloned().or_else(|| {
                current
                    .is_none()
                    .then(|| name_of(&symbols, ip).unwrap_or_else(|| format!("{ip:#x}")))
            }) {
                if let Some((name, addr, list)) = current.take() {
                    functions.push(json!({"name": name, "address": format!("{addr:#x}"), "instructions": list}));
                }
                text.push_str(&format!("\n{ip:016x} <{n}>:\n"));
                current = Some((n, ip, Vec::new()));
            }
            let off = (ip - seg.vaddr) as usize;
            let raw = &seg.data[off..off + ins.len()];
            let mut asm = String::new();
            if ins.is_invalid() {
                asm.push_str("(bad)");
            } else {
                fmt.format(&ins, &mut asm);
            }
            let target = match ins.flow_control() {
                FlowControl::Call
                | FlowControl::UnconditionalBranch
                | FlowControl::ConditionalBranch => name_of(&symbols, ins.near_branch_target())
                    .filter(|_| ins.near_branch_target() != 0),
                _ => None,
            };
            let hexbytes: Vec<String> = raw.iter().map(|b| format!("{b:02x}")).collect();
            text.push_str(&format!(
                "  {ip:8x}:  {:<30} {asm}{}\n",
                hexbytes.join(" "),
                target
                    .as_ref()
                    .map(|t| format!("  <{t}>"))
                    .unwrap_or_default()
            ));
            if let Some((_, _, list)) = current.as_mut() {
                list.push(json!({
                    "address": format!("{ip:#x}"),
                    "bytes": hexbytes.concat(),
                    "text": asm,
                    "target": target,
                }));
            }
            count += 1;
        }
    }
    if let Some((name, addr, list)) = current.take() {
        functions
            .push(json!({"name": name, "address": format!("{addr:#x}"), "instructions": list}));
    }
    if count == 0 {
        return Err("no executable code to show".into());
    }
    let json = json!({
        "file": a.file.display().to_string(),
        "entry": format!("{:#x}", image.entry),
        "functions": functions,
    });
    Ok(Report::ok(
        json,
        format!("{}: entry {:#x}\n{text}", a.file.display(), image.entry),
    ))
}
