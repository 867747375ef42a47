//! `--trace`: one line per executed instruction, with the registers it changed.

use std::io::Write;

use crate::cpu::{Cpu, reg};
use crate::disasm::disassemble_at;
use crate::interp::Tracer;
use crate::ir::Inst;
use crate::mem::Memory;

/// Writes a line per instruction to `out`.
#[derive(Debug)]
pub struct StepTracer<W: Write> {
    out: W,
    before: [u64; 16],
    flags: u64,
    line: String,
    /// Stop writing after this many lines (the run goes on).
    pub limit: u64,
    written: u64,
}

impl<W: Write> StepTracer<W> {
    /// A tracer writing to `out`.
    pub fn new(out: W) -> Self {
        StepTracer {
            out,
            before: [0; 16],
            flags: 0,
            line: String::new(),
            limit: u64::MAX,
            written: 0,
        }
    }
}

impl<W: Write> Tracer for StepTracer<W> {
    const ENABLED: bool = true;

    fn before(&mut self, cpu: &Cpu, mem: &Memory, inst: &Inst) {
        self.before = cpu.gpr;
        self.flags = cpu.rflags();
        self.line = format!("{:#010x}  {}", inst.addr, disassemble_at(mem, inst.addr));
    }

    fn after(&mut self, cpu: &Cpu, _mem: &Memory, _inst: &Inst) {
        if self.written >= self.limit {
            return;
        }
        self.written += 1;
        let mut line = std::mem::take(&mut self.line);
        let mut first = true;
        for (r, (&old, &new)) in self.before.iter().zip(cpu.gpr.iter()).enumerate() {
            if old != new {
                line.push_str(if first { "    ; " } else { " " });
                first = false;
                line.push_str(&format!("{}={new:#x}", reg::NAMES[r]));
            }
        }
        let f = cpu.rflags();
        if f != self.flags {
            line.push_str(if first { "    ; " } else { " " });
            line.push_str(&format!("rflags={f:#x}"));
        }
        // Trace output is best effort: a closed pipe must not stop the run.
        let _ = writeln!(self.out, "{line}");
    }
}
