//! `x64vm trace [ID] [-v|-vv]`: a transaction's call tree with gas per frame;
//! `-v` re-runs it (against the state it saw) and adds the functions entered
//! in each frame, `-vv` every instruction with the registers it changed.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use clap::{ArgAction, Args};
use serde_json::json;
use x64vm::cpu::{Cpu, reg};
use x64vm::disasm::disassemble_at;
use x64vm::ir::Inst;
use x64vm::mem::{Memory, perm};
use x64vm_chain::receipt::write_tree;
use x64vm_runtime::code::Code;
use x64vm_runtime::host::{Frame, FrameStatus, StepSink};

use super::chain::{CliError, Global, Progress, Report, label, open_existing, to_json};

/// Arguments of `x64vm trace`.
#[derive(Args, Debug)]
pub struct TraceArgs {
    /// The receipt id; the latest without it.
    pub id: Option<u64>,
    /// More detail: -v the functions entered, -vv every instruction.
    #[arg(short, action = ArgAction::Count)]
    pub verbose: u8,
    /// At most this many lines of -v/-vv detail.
    #[arg(long, default_value_t = 100_000)]
    pub limit: usize,
}

/// Collects the detail lines of a re-run.
struct Flow {
    level: u8,
    limit: usize,
    lines: RefCell<Vec<String>>,
    dropped: Cell<u64>,
    /// Symbols (address → name) of the code of each frame on the stack.
    symbols: RefCell<Vec<BTreeMap<u64, String>>>,
    before: RefCell<([u64; 16], u64, String)>,
    /// Where the previous instruction ended (to tell jumps from fall-through).
    prev_end: Cell<u64>,
    names: RefCell<BTreeMap<[u8; 32], String>>,
}

impl Flow {
    fn push(&self, depth: u64, s: String) {
        let mut lines = self.lines.borrow_mut();
        if lines.len() >= self.limit {
            self.dropped.set(self.dropped.get() + 1);
            return;
        }
        lines.push(format!("{}{s}", "  ".repeat(depth as usize)));
    }

    fn name(&self, a: &[u8; 32]) -> String {
        self.names
            .borrow()
            .get(a)
            .cloned()
            .unwrap_or_else(|| x64vm_runtime::hex(&a[..6]) + "…")
    }
}

impl StepSink for Flow {
    fn enter(&self, frame: &Frame, code: &Code) {
        let syms: BTreeMap<u64, String> =
            code.image
                .symbols
                .iter()
                .filter(|(_, a)| {
                    code.image.segments.iter().any(|s| {
                        s.perms & perm::X != 0 && s.vaddr <= **a && **a < s.vaddr + s.mem_size
                    })
                })
                .map(|(n, a)| (*a, n.clone()))
                .collect();
        self.symbols.borrow_mut().push(syms);
        self.prev_end.set(u64::MAX);
        self.push(
            frame.depth - 1,
            format!(
                "-> frame {}: {} (called by {}, value {})",
                frame.depth,
                self.name(&frame.address),
                self.name(&frame.caller),
                frame.value
            ),
        );
    }

    fn before(&self, frame: &Frame, cpu: &Cpu, mem: &Memory, inst: &Inst) {
        // Control arrived at the start of a function other than by falling
        // through (a call or a jump; RIP is only kept exact at block ends, so
        // this compares with the end of the previous instruction).
        if self.prev_end.get() != inst.addr {
            let name = self
                .symbols
                .borrow()
                .last()
                .and_then(|s| s.get(&inst.addr).cloned());
            if let Some(name) = name {
                self.push(
                    frame.depth,
                    format!("{name}  (at {:#x}, gas left {})", inst.addr, cpu.gas),
                );
            }
        }
        self.prev_end
            .set(inst.addr.wrapping_add(u64::from(inst.len)));
        if self.level >= 2 {
            *self.before.borrow_mut() = (
                cpu.gpr,
                cpu.rflags(),
                format!("{:#010x}  {}", inst.addr, disassemble_at(mem, inst.addr)),
            );
        }
    }

    fn after(&self, frame: &Frame, cpu: &Cpu, _: &Memory, _: &Inst) {
        if self.level >= 2 {
            let (gpr, flags, text) = std::mem::take(&mut *self.before.borrow_mut());
            let mut line = text;
            let mut first = true;
            for (r, (&old, &new)) in gpr.iter().zip(cpu.gpr.iter()).enumerate() {
                if old != new {
                    line.push_str(if first { "    ; " } else { " " });
                    first = false;
                    line.push_str(&format!("{}={new:#x}", reg::NAMES[r]));
                }
            }
            let f = cpu.rflags();
            if f != flags {
                line.push_str(if first { "    ; " } else { " " });
                line.push_str(&format!("rflags={f:#x}"));
            }
            self.push(frame.depth, line);
        }
    }

    fn exit(&self, frame: &Frame, status: &FrameStatus, gas_used: u64) {
        self.symbols.borrow_mut().pop();
        // Back in the caller, right after its `int`.
        self.prev_end.set(u64::MAX - 1);
        let how = match status {
            FrameStatus::Success => "success".to_string(),
            FrameStatus::Reverted => "reverted".to_string(),
            FrameStatus::Failed { message, .. } => message.clone(),
        };
        self.push(
            frame.depth - 1,
            format!("<- frame {}: {how}, gas used {gas_used}", frame.depth),
        );
    }
}

/// Prints the trace.
pub fn trace(a: &TraceArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open_existing(g)?;
    let receipt = match a.id {
        Some(id) => chain.receipt(id)?,
        None => chain.receipts()?.pop(),
    }
    .ok_or_else(|| {
        CliError::from(x64vm_chain::ChainError::NotFound(match a.id {
            Some(id) => format!("receipt {id}"),
            None => "any receipt (no transactions yet)".into(),
        }))
    })?;
    let mut text = format!(
        "receipt {}: {} {} in block {}, status {}, gas {} of {}\n",
        receipt.id,
        receipt.kind.name(),
        receipt
            .call
            .clone()
            .or(receipt.function.clone())
            .unwrap_or_default(),
        receipt.block,
        receipt.status,
        receipt.gas_used,
        receipt.gas_limit
    );
    match &receipt.trace {
        Some(tree) => {
            let _ = write_tree(&mut text, tree);
        }
        None => text.push_str("(no code ran)\n"),
    }
    let mut json = json!({
        "receipt": receipt.id,
        "status": receipt.status,
        "gas_used": receipt.gas_used,
        "gas_limit": receipt.gas_limit,
        "tree": to_json(&receipt.trace)?,
    });
    if a.verbose > 0 && receipt.trace.is_some() {
        let flow = Flow {
            level: a.verbose,
            limit: a.limit,
            lines: RefCell::new(Vec::new()),
            dropped: Cell::new(0),
            symbols: RefCell::new(Vec::new()),
            before: RefCell::new(([0; 16], 0, String::new())),
            prev_end: Cell::new(u64::MAX),
            names: RefCell::new(BTreeMap::new()),
        };
        // Names for the frames: dev accounts and aliases.
        let mut stack = receipt.trace.iter().collect::<Vec<_>>();
        while let Some(f) = stack.pop() {
            for a in [f.address, f.caller] {
                flow.names.borrow_mut().insert(a, label(&chain, &a));
            }
            if let Some(alias) = &f.alias {
                flow.names.borrow_mut().insert(f.address, alias.clone());
            }
            stack.extend(f.calls.iter());
        }
        let again = {
            let _p = Progress::start("re-running");
            chain.replay(receipt.id, &flow)?
        };
        let lines = flow.lines.into_inner();
        text.push_str(&format!(
            "\n{} (re-run against the state before the transaction):\n",
            if a.verbose >= 2 {
                "instructions"
            } else {
                "functions entered"
            }
        ));
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
        let dropped = flow.dropped.get();
        if dropped > 0 {
            text.push_str(&format!("... {dropped} more lines (raise --limit)\n"));
        }
        if again.gas_used != receipt.gas_used || again.status != receipt.status {
            text.push_str(&format!(
                "note: the re-run ended {} with gas {}, the recorded run {} with gas {}\n",
                again.status, again.gas_used, receipt.status, receipt.gas_used
            ));
        }
        json["detail"] = json!({
            "level": a.verbose,
            "lines": lines,
            "dropped": dropped,
            "rerun_matches": again.gas_used == receipt.gas_used && again.status == receipt.status,
        });
    }
    Ok(Report::ok(json, text))
}
