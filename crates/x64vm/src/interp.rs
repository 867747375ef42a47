//! The interpreter loop and the decoded-block cache.
//!
//! Blocks are decoded once (iced-x86 -> [`Inst`]) and cached by guest address.
//! Entering a block charges its whole gas cost at once; host calls and traps
//! leave the loop as values, so the loop itself knows nothing about hosts.

use iced_x86::{Decoder, DecoderError, DecoderOptions, Instruction};
use rustc_hash::FxHashMap;

use crate::cpu::Cpu;
use crate::ir::Inst;
use crate::isa::Exit;
use crate::mem::Memory;
use crate::translate::translate;
use crate::trap::Trap;

/// Most instructions in one block; bounds the work between gas checks.
pub const MAX_BLOCK_INSTS: usize = 256;
/// Most decoded instructions kept in a cache: past this the cache starts over. Every
/// byte of code can start a block of up to [`MAX_BLOCK_INSTS`] instructions, so
/// without a bound a guest jumping into its code at every offset would make the host
/// hold far more memory than the gas it pays for suggests. Dropping blocks never
/// changes results or gas: a block is the same whenever it is decoded.
pub const MAX_CACHED_INSTS: usize = 1 << 20;
/// Most bytes fetched for one block.
const MAX_BLOCK_BYTES: u64 = 4096;
/// Gas charged when a block wrote to a page that code was decoded from (only
/// possible where pages are writable and executable: W^X off, executable stacks),
/// for dropping and decoding again what the cache held.
pub const GAS_CODE_INVALIDATION: u64 = 50;

/// A decoded basic block: a run of [`Inst`] ending at a control transfer.
#[derive(Clone, Copy, Debug)]
pub struct Block {
    first: u32,
    count: u32,
    gas: u64,
}

/// Entries of the direct-mapped lookup table in front of the block map.
const FAST_ENTRIES: usize = 4096;

/// Decoded blocks of one instance, by start address.
#[derive(Debug)]
pub struct CodeCache {
    map: FxHashMap<u64, u32>,
    /// Direct-mapped (address, block) pairs: most lookups hit here and skip hashing.
    fast: Box<[(u64, u32)]>,
    blocks: Vec<Block>,
    insts: Vec<Inst>,
}

impl Default for CodeCache {
    fn default() -> Self {
        CodeCache {
            map: FxHashMap::default(),
            // Address 0 never starts a block (it ends the run), so it marks empty slots.
            fast: vec![(0, 0); FAST_ENTRIES].into_boxed_slice(),
            blocks: Vec::new(),
            insts: Vec::new(),
        }
    }
}

#[inline(always)]
fn fast_slot(rip: u64) -> usize {
    ((rip ^ (rip >> 12)) as usize) & (FAST_ENTRIES - 1)
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

    /// Drops everything (after code pages change). Costs what was cached, not the
    /// size of the lookup table: code that rewrites itself in a tight loop clears
    /// a nearly empty cache every block.
    pub fn clear(&mut self) {
        if self.map.len() < FAST_ENTRIES / 8 {
            // Every filled slot holds the address of a cached block.
            for &addr in self.map.keys() {
                self.fast[fast_slot(addr)] = (0, 0);
            }
        } else {
            self.fast.fill((0, 0));
        }
        self.map.clear();
        self.blocks.clear();
        self.insts.clear();
    }

    #[inline(always)]
    fn get(&mut self, mem: &mut Memory, rip: u64) -> Result<Block, Trap> {
        let slot = fast_slot(rip);
        let (addr, b) = self.fast[slot];
        if addr == rip {
            return Ok(self.blocks[b as usize]);
        }
        let b = match self.map.get(&rip) {
            Some(&b) => b,
            None => {
                self.translate_block(mem, rip)?;
                (self.blocks.len() - 1) as u32
            }
        };
        self.fast[slot] = (rip, b);
        Ok(self.blocks[b as usize])
    }

    /// Decodes the block at `rip`. Cold: runs once per block.
    #[cold]
    #[inline(never)]
    fn translate_block(&mut self, mem: &mut Memory, rip: u64) -> Result<Block, Trap> {
        if self.insts.len() + MAX_BLOCK_INSTS > MAX_CACHED_INSTS {
            self.clear();
        }
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
                    return Err(Trap::ExecuteNonExecutable {
                        addr: rip + window.len() as u64,
                    });
                }
                break;
            }
            let mut inst = translate(&ins);
            inst.handler = crate::isa::handler_for(&inst);
            gas += inst.op.gas();
            count += 1;
            let end = inst.ends_block();
            self.insts.push(inst);
            if end {
                break;
            }
        }
        if count == 0 {
            return Err(Trap::ExecuteNonExecutable {
                addr: rip + window.len() as u64,
            });
        }
        if mem.perms_at(rip) & crate::mem::perm::W != 0
            || mem.perms_at(rip + window.len() as u64 - 1) & crate::mem::perm::W != 0
        {
            // Writable code (Linux profile, executable stacks): watch it for writes.
            let end = self.insts.last().map_or(rip, Inst::next);
            mem.mark_decoded(rip, end - rip);
        }
        let block = Block {
            first,
            count: count as u32,
            gas,
        };
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
    /// `int n` at the given address; RIP points after the instruction.
    Interrupt(u8, u64),
    /// `syscall` at the given address; RIP points after the instruction.
    Syscall(u64),
    /// A trap; RIP points at the faulting instruction.
    Trap(Trap),
}

/// Runs until something needs the outside world.
pub fn run<T: Tracer>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    cache: &mut CodeCache,
    tracer: &mut T,
) -> Stop {
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
        let Some((last, body)) = insts.split_last() else {
            return Stop::Trap(Trap::InvalidOpcode);
        };
        for inst in body {
            if T::ENABLED {
                tracer.before(cpu, mem, inst);
            }
            if let Err(e) = (inst.handler)(cpu, mem, inst) {
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
        if let Err(e) = (last.handler)(cpu, mem, last) {
            return exit_to_stop(e, cpu, last);
        }
        if T::ENABLED {
            tracer.after(cpu, mem, last);
        }
        if mem.take_code_dirty() {
            // Code the cache was built from changed: decode again from scratch. That
            // work is the guest's doing (a write to its own code, W^X off), so it
            // is metered: otherwise a loop rewriting its code would cost the host
            // ~100 times more time per unit of gas than any other code.
            cache.clear();
            if cpu.gas < GAS_CODE_INVALIDATION {
                cpu.gas = 0;
                return Stop::Trap(Trap::OutOfGas);
            }
            cpu.gas -= GAS_CODE_INVALIDATION;
        }
    }
}

#[cold]
fn exit_to_stop(e: Exit, cpu: &mut Cpu, inst: &Inst) -> Stop {
    match e {
        Exit::Trap(t) => {
            cpu.rip = inst.addr;
            Stop::Trap(*t)
        }
        Exit::Interrupt(n) => Stop::Interrupt(n as u8, inst.addr),
        Exit::Syscall => Stop::Syscall(inst.addr),
    }
}
