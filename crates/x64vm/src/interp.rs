//! The interpreter loop and the decoded-block cache.
//!
//! Blocks are decoded once (iced-x86 -> [`Inst`]) and cached by guest address.
//! Entering a block charges its whole gas cost at once; host calls and traps
//! leave the loop as values, so the loop itself knows nothing about hosts.

use iced_x86::{Decoder, DecoderError, DecoderOptions, Instruction};
use rustc_hash::FxHashMap;

use crate::cpu::Cpu;
use crate::ir::Inst;
use crate::isa::{Exit, exec};
use crate::mem::Memory;
use crate::translate::translate;
use crate::trap::Trap;

/// Most instructions in one block; bounds the work between gas checks.
pub const MAX_BLOCK_INSTS: usize = 256;
/// Most bytes fetched for one block.
const MAX_BLOCK_BYTES: u64 = 4096;

/// A decoded basic block: a run of [`Inst`] ending at a control transfer.
#[derive(Clone, Copy, Debug)]
pub struct Block {
    first: u32,
    count: u32,
    gas: u64,
}

/// Decoded blocks of one instance, by start address.
#[derive(Default, Debug)]
pub struct CodeCache {
    map: FxHashMap<u64, u32>,
    blocks: Vec<Block>,
    insts: Vec<Inst>,
}

impl CodeCache {
    /// Number of cached blocks.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Drops everything (after code pages change).
    pub fn clear(&mut self) {
        self.map.clear();
        self.blocks.clear();
        self.insts.clear();
    }

    #[inline(always)]
    fn get(&mut self, mem: &mut Memory, rip: u64) -> Result<Block, Trap> {
        match self.map.get(&rip) {
            Some(&b) => Ok(self.blocks[b as usize]),
            None => self.translate_block(mem, rip),
        }
    }

    /// Decodes the block at `rip`. Cold: runs once per block.
    #[cold]
    #[inline(never)]
    fn translate_block(&mut self, mem: &mut Memory, rip: u64) -> Result<Block, Trap> {
        let window = mem.fetch_window(rip, MAX_BLOCK_BYTES)?;
        let mut decoder = Decoder::with_ip(64, window, rip, DecoderOptions::NONE);
        let mut ins = Instruction::default();
        let first = self.insts.len() as u32;
        let mut gas = 0u64;
        let mut count = 0usize;
        while decoder.can_decode() && count < MAX_BLOCK_INSTS {
            decoder.decode_out(&mut ins);
            if ins.is_invalid() && decoder.last_error() == DecoderError::NoMoreBytes {
                if count == 0 {
                    // The instruction runs into a page that is not executable.
                    return Err(Trap::ExecuteNonExecutable { addr: rip + window.len() as u64 });
                }
                break;
            }
            let inst = translate(&ins);
            gas += inst.op.gas();
            count += 1;
            let end = inst.ends_block();
            self.insts.push(inst);
            if end {
                break;
            }
        }
        if count == 0 {
            return Err(Trap::ExecuteNonExecutable { addr: rip + window.len() as u64 });
        }
        if mem.perms_at(rip) & crate::mem::perm::W != 0 || mem.perms_at(rip + window.len() as u64 - 1) & crate::mem::perm::W != 0 {
            // Writable code (Linux profile, executable stacks): watch it for writes.
            let end = self.insts.last().map_or(rip, Inst::next);
            mem.mark_decoded(rip, end - rip);
        }
        let block = Block { first, count: count as u32, gas };
        self.map.insert(rip, self.blocks.len() as u32);
        self.blocks.push(block);
        Ok(block)
    }
}

/// Observes execution one instruction at a time. The plain loop uses [`NoTrace`],
/// whose calls compile away.
pub trait Tracer {
    /// Whether the hooks are called at all.
    const ENABLED: bool;
    /// Before `inst` executes.
    fn before(&mut self, cpu: &Cpu, mem: &Memory, inst: &Inst);
    /// After `inst` executed without trapping.
    fn after(&mut self, cpu: &Cpu, mem: &Memory, inst: &Inst);
}

/// The tracer that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTrace;

impl Tracer for NoTrace {
    const ENABLED: bool = false;
    #[inline(always)]
    fn before(&mut self, _: &Cpu, _: &Memory, _: &Inst) {}
    #[inline(always)]
    fn after(&mut self, _: &Cpu, _: &Memory, _: &Inst) {}
}

/// Why [`run`] returned.
#[derive(Debug)]
pub enum Stop {
    /// Control reached address 0: the entry function returned to the null address.
    Returned,
    /// `int n`; RIP points after the instruction.
    Interrupt(u8),
    /// `syscall`; RIP points after the instruction.
    Syscall,
    /// A trap; RIP points at the faulting instruction.
    Trap(Trap),
}

/// Runs until something needs the outside world.
pub fn run<T: Tracer>(cpu: &mut Cpu, mem: &mut Memory, cache: &mut CodeCache, tracer: &mut T) -> Stop {
    loop {
        let rip = cpu.rip;
        if rip == 0 {
            return Stop::Returned;
        }
        let block = match cache.get(mem, rip) {
            Ok(b) => b,
            Err(t) => return Stop::Trap(t),
        };
        if cpu.gas < block.gas {
            cpu.gas = 0;
            return Stop::Trap(Trap::OutOfGas);
        }
        cpu.gas -= block.gas;
        cpu.retired += block.count as u64;
        let insts = &cache.insts[block.first as usize..(block.first + block.count) as usize];
        let Some((last, body)) = insts.split_last() else { return Stop::Trap(Trap::InvalidOpcode) };
        for inst in body {
            if T::ENABLED {
                tracer.before(cpu, mem, inst);
            }
            if let Err(e) = exec(cpu, mem, inst) {
                cpu.rip = inst.addr;
                return exit_to_stop(e, cpu, inst);
            }
            if T::ENABLED {
                tracer.after(cpu, mem, inst);
            }
        }
        if T::ENABLED {
            tracer.before(cpu, mem, last);
        }
        cpu.rip = last.next();
        if let Err(e) = exec(cpu, mem, last) {
            return exit_to_stop(e, cpu, last);
        }
        if T::ENABLED {
            tracer.after(cpu, mem, last);
        }
        if mem.take_code_dirty() {
            // Code the cache was built from changed: decode again from scratch.
            cache.clear();
        }
    }
}

#[cold]
fn exit_to_stop(e: Exit, cpu: &mut Cpu, inst: &Inst) -> Stop {
    match e {
        Exit::Trap(t) => {
            cpu.rip = inst.addr;
            Stop::Trap(t)
        }
        Exit::Interrupt(n) => Stop::Interrupt(n),
        Exit::Syscall => Stop::Syscall,
    }
}
