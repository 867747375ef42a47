//! The interpreter loop and the decoded-block cache.
//!
//! Blocks are decoded once (iced-x86 -> [`Inst`]) and cached by guest address.
//! Entering a block charges its whole gas cost at once; host calls and traps
//! leave the loop as values, so the loop itself knows nothing about hosts.

use iced_x86::{Decoder, DecoderError, DecoderOptions, Instruction};
use rustc_hash::FxHashMap;

use crate::cpu::Cpu;
use crate::ir::{Inst, NO_LINK};
use crate::isa::{ExecResult, Exit};
#[cfg(all(target_arch = "x86_64", unix))]
pub use crate::jit::JitStats;
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
///
/// In the cache a block is laid out as an entry instruction (charges the block's
/// gas, see [`enter_block`]), the guest instructions, and, when the block was cut
/// short by a limit rather than ended by a control transfer, an end instruction
/// that only continues at the next address. Every block thus ends with an
/// instruction whose threaded handler calls [`follow`].
#[derive(Clone, Copy, Debug)]
pub struct Block {
    /// Index of the entry instruction; the guest instructions follow it.
    entry: u32,
    /// Number of guest instructions.
    count: u32,
    gas: u64,
    /// Host address of the block's compiled code, or 0.
    jit: u64,
    /// Times the loop dispatched the block while it was not compiled.
    heat: u32,
    /// The compiler has no template for the block's first instruction.
    not_compilable: bool,
}

/// `ssize` of a block's entry instruction once the block is compiled: linked
/// interpreter blocks then return to the loop (which runs the compiled code)
/// instead of running it in the interpreter.
const ENTRY_COMPILED: u8 = 1;

/// How hot a block must get before it is compiled (see `jit`): about how many
/// times the loop dispatched it, plus an eighth of the blocks the interpreter
/// ran linked to one another before coming back. Compiling a block costs about
/// as much as interpreting a few hundred of its runs, so code that runs a few
/// times is cheaper to interpret. Measured with fresh instances on the bench
/// kernels (docs/performance.md): 8 made fib(15) (13k guest instructions)
/// about four times slower than the interpreter alone; 64 keeps such short
/// calls near it and still compiles the hot code of long ones early.
pub const JIT_THRESHOLD: u32 = 64;
/// Most blocks compiled at once: a hot block and the blocks the interpreter
/// already linked it to, and theirs.
const JIT_REGION: usize = 64;

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
    /// Whether compare-and-branch pairs are fused (see `isa::fused`): yes, except
    /// for tracing, which shows every guest instruction.
    fuse: bool,
    /// Dispatches before a block is compiled; `u32::MAX`: never.
    jit_threshold: u32,
    /// Counts `clear`s, so that a link recorded before one is not applied after.
    generation: u64,
    #[cfg(all(target_arch = "x86_64", unix))]
    jit: Option<Box<crate::jit::Jit>>,
    /// The host cannot run compiled code: interpret everything.
    jit_unavailable: bool,
}

impl Default for CodeCache {
    fn default() -> Self {
        CodeCache {
            map: FxHashMap::default(),
            // Address 0 never starts a block (it ends the run), so it marks empty slots.
            fast: vec![(0, 0); FAST_ENTRIES].into_boxed_slice(),
            blocks: Vec::new(),
            insts: Vec::new(),
            fuse: true,
            jit_threshold: JIT_THRESHOLD,
            generation: 0,
            #[cfg(all(target_arch = "x86_64", unix))]
            jit: None,
            jit_unavailable: !cfg!(all(target_arch = "x86_64", unix)),
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

    /// Chooses whether blocks decoded from now on fuse compare-and-branch pairs,
    /// dropping what was decoded the other way.
    fn set_fusion(&mut self, fuse: bool) {
        if self.fuse != fuse {
            self.clear();
            self.fuse = fuse;
        }
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
        self.generation += 1;
        #[cfg(all(target_arch = "x86_64", unix))]
        if let Some(j) = &mut self.jit {
            j.reset();
        }
    }

    /// Sets after how many dispatches from the loop a block is compiled to host
    /// code (`Some(0)` or `Some(1)`: at once), or turns compiling off (`None`).
    /// Results and gas are the same either way; this is for tests and benchmarks.
    pub fn set_jit(&mut self, threshold: Option<u32>) {
        self.jit_threshold = threshold.map_or(u32::MAX, |t| t.max(1));
    }

    /// Host bytes held by compiled code (see [`Instance::retained_bytes`]).
    ///
    /// [`Instance::retained_bytes`]: crate::Instance::retained_bytes
    pub fn jit_retained_bytes(&self) -> u64 {
        #[cfg(all(target_arch = "x86_64", unix))]
        if let Some(j) = &self.jit {
            return j.retained_bytes();
        }
        0
    }

    /// What the block compiler has done (all zero where there is none).
    pub fn jit_stats(&self) -> JitStats {
        #[cfg(all(target_arch = "x86_64", unix))]
        if let Some(j) = &self.jit {
            return j.stats();
        }
        JitStats::default()
    }

    #[inline(always)]
    fn get(&mut self, mem: &mut Memory, rip: u64) -> Result<Block, Trap> {
        let b = self.get_index(mem, rip)?;
        Ok(self.blocks[b as usize])
    }

    #[inline(always)]
    fn get_index(&mut self, mem: &mut Memory, rip: u64) -> Result<u32, Trap> {
        let slot = fast_slot(rip);
        let (addr, b) = self.fast[slot];
        if addr == rip {
            return Ok(b);
        }
        let b = match self.map.get(&rip) {
            Some(&b) => b,
            None => {
                self.translate_block(mem, rip)?;
                (self.blocks.len() - 1) as u32
            }
        };
        self.fast[slot] = (rip, b);
        Ok(b)
    }

    /// Decodes the block at `rip`. Cold: runs once per block.
    #[cold]
    #[inline(never)]
    fn translate_block(&mut self, mem: &mut Memory, rip: u64) -> Result<Block, Trap> {
        if self.insts.len() + MAX_BLOCK_INSTS + 2 > MAX_CACHED_INSTS {
            self.clear();
        }
        let window = mem.fetch_window(rip, MAX_BLOCK_BYTES)?;
        let mut decoder = Decoder::with_ip(64, window, rip, DecoderOptions::NONE);
        let mut ins = Instruction::default();
        let entry = self.insts.len();
        let mut gas = 0u64;
        let mut count = 0usize;
        let mut ended = false;
        self.insts.push(Inst::new(rip, 0, crate::ir::Op::Nop));
        while decoder.can_decode() && count < MAX_BLOCK_INSTS {
            decoder.decode_out(&mut ins);
            if ins.is_invalid() && decoder.last_error() == DecoderError::NoMoreBytes {
                break;
            }
            let mut inst = translate(&ins);
            let h = crate::isa::handlers_for(&inst);
            inst.handler = h.step;
            inst.threaded = h.threaded;
            gas += inst.op.gas();
            count += 1;
            ended = inst.ends_block();
            let prev = self.insts.len() - 1;
            let fused = if self.fuse && prev > entry {
                crate::isa::fuse(&self.insts[prev], &inst)
            } else {
                None
            };
            match fused {
                Some(f) => self.insts[prev] = f,
                None => self.insts.push(inst),
            }
            if ended {
                break;
            }
        }
        if count == 0 {
            // The first instruction runs into a page that is not executable.
            self.insts.truncate(entry);
            return Err(Trap::ExecuteNonExecutable {
                addr: rip + window.len() as u64,
            });
        }
        let end = self.insts.last().map_or(rip, Inst::next);
        if !ended {
            let mut cut = Inst::new(end, 0, crate::ir::Op::Nop);
            let h = crate::isa::last_handlers!(continue_here);
            cut.handler = h.step;
            cut.threaded = h.threaded;
            self.insts.push(cut);
        }
        let e = &mut self.insts[entry];
        e.handler = continue_here;
        e.threaded = enter_block;
        e.imm = gas;
        e.disp = count as i64;
        if mem.perms_at(rip) & crate::mem::perm::W != 0
            || mem.perms_at(rip + window.len() as u64 - 1) & crate::mem::perm::W != 0
        {
            // Writable code (Linux profile, executable stacks): watch it for writes.
            mem.mark_decoded(rip, end - rip);
        }
        let block = Block {
            entry: entry as u32,
            count: count as u32,
            gas,
            jit: 0,
            heat: 0,
            not_compilable: false,
        };
        self.map.insert(rip, self.blocks.len() as u32);
        self.blocks.push(block);
        Ok(block)
    }

    /// Records that the block whose last instruction is `code[from]` continues at
    /// `rip`, whose block starts at `entry`: next time, [`follow`] goes there
    /// directly. A link names the block at a fixed address (the branch target or
    /// the fall-through), so it stays right for as long as both blocks are cached.
    #[inline(always)]
    fn link(&mut self, from: u32, rip: u64, entry: u32) {
        if let Some(last) = self.insts.get_mut(from as usize) {
            if rip == last.imm {
                last.link_taken = entry;
            } else if rip == last.next() {
                last.link_next = entry;
            }
        }
    }
}

/// What the block compiler has done (there is none on this host).
#[cfg(not(all(target_arch = "x86_64", unix)))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Host bytes of generated code held now.
    pub code_bytes: usize,
    /// Blocks compiled since the instance was created.
    pub compiled: u64,
    /// Blocks the host assembler rejected.
    pub errors: u64,
}

/// What the loop does with a block (see [`CodeCache::jit_entry`]).
#[cfg(all(target_arch = "x86_64", unix))]
enum JitEntry {
    /// Run its compiled code at this host address.
    Run(u64),
    /// Run it in the interpreter.
    Interpret,
    /// Compiling dropped the cache: look the block up again.
    Retry,
}

#[cfg(all(target_arch = "x86_64", unix))]
impl CodeCache {
    /// How to run block `b`: its compiled code, compiled now (with the blocks
    /// linked from it) when it has become hot, or the interpreter.
    /// `weight`: how much running the block counts for (see the loop).
    #[inline(always)]
    fn jit_entry(&mut self, b: u32, weight: u32) -> JitEntry {
        let blk = &mut self.blocks[b as usize];
        if blk.jit != 0 {
            return JitEntry::Run(blk.jit);
        }
        if blk.not_compilable || self.jit_unavailable {
            return JitEntry::Interpret;
        }
        blk.heat = blk.heat.saturating_add(weight);
        if blk.heat < self.jit_threshold {
            return JitEntry::Interpret;
        }
        let generation = self.generation;
        self.compile_region(b);
        if self.generation != generation {
            return JitEntry::Retry;
        }
        match self.blocks[b as usize].jit {
            0 => JitEntry::Interpret,
            host => JitEntry::Run(host),
        }
    }

    /// Compiles block `start` and the blocks the interpreter linked it to
    /// (transitively, at most [`JIT_REGION`]): the code that ran with it.
    #[cold]
    #[inline(never)]
    fn compile_region(&mut self, start: u32) {
        if self.jit.is_none() {
            match crate::jit::Jit::new() {
                Some(j) => self.jit = Some(Box::new(j)),
                None => {
                    self.jit_unavailable = true;
                    return;
                }
            }
        }
        let mut queue = vec![start];
        let mut done = 0;
        let mut compiled = Vec::new();
        let mut outcome = Ok(());
        while let Some(b) = queue.pop() {
            if done == JIT_REGION {
                break;
            }
            let blk = self.blocks[b as usize];
            if blk.jit != 0 || blk.not_compilable || compiled.iter().any(|&(c, _)| c == b) {
                continue;
            }
            done += 1;
            let last = match self.compile_one(b) {
                Ok((last, host)) => {
                    if let Some(host) = host {
                        compiled.push((b, host));
                    }
                    last
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
            let last = &self.insts[last];
            for link in [last.link_taken, last.link_next] {
                if let Some(&next) = self
                    .insts
                    .get(link as usize)
                    .and_then(|e| self.map.get(&e.addr))
                {
                    queue.push(next);
                }
            }
        }
        if outcome.is_ok()
            && let Some(jit) = self.jit.as_mut()
        {
            outcome = jit.flush();
        }
        match outcome {
            Ok(()) => {
                for (b, host) in compiled {
                    let entry = self.blocks[b as usize].entry as usize;
                    self.blocks[b as usize].jit = host;
                    self.insts[entry].ssize = ENTRY_COMPILED;
                }
            }
            Err(crate::jit::Full::NoRoom) => self.clear(),
            Err(crate::jit::Full::Broken) => {
                self.jit = None;
                self.jit_unavailable = true;
                self.clear();
            }
        }
    }

    /// Compiles block `b` (see [`crate::jit::Jit::compile`]); returns the index
    /// of its last cached instruction and its host entry, if it compiled.
    fn compile_one(&mut self, b: u32) -> Result<(usize, Option<u64>), crate::jit::Full> {
        let blk = self.blocks[b as usize];
        let first = blk.entry as usize + 1;
        // The guest instructions: up to the one ending the block, or up to the
        // synthetic end instruction (the only other one of length 0).
        let mut j = first;
        let end = loop {
            let i = &self.insts[j];
            if i.len == 0 {
                break i.addr;
            }
            if i.ends_block() {
                j += 1;
                break i.next();
            }
            j += 1;
        };
        let last = if self.insts[j - 1].ends_block() {
            j - 1
        } else {
            j
        };
        let Some(jit) = self.jit.as_mut() else {
            return Ok((last, None));
        };
        let addr = self.insts[blk.entry as usize].addr;
        let host = jit.compile(
            &self.insts[first..j],
            first as u32,
            addr,
            blk.gas,
            u64::from(blk.count),
            end,
        )?;
        if host.is_none() {
            self.blocks[b as usize].not_compilable = true;
        }
        Ok((last, host))
    }

    /// After compiled code left through link slot `pending` (see `jit::exit`)
    /// for `rip`, whose compiled code is at `host`: the next time it goes there
    /// directly.
    fn jit_link(&mut self, pending: (u32, u64), rip: u64, host: u64) {
        let (payload, generation) = pending;
        if generation != self.generation {
            // The slot belonged to code dropped since.
            return;
        }
        if let Some(j) = &mut self.jit {
            match payload {
                0 => j.remember(rip, host),
                p => j.link(p - 1, host),
            }
        }
    }
}

/// The step handler of the synthetic entry and end instructions: nothing to do.
fn continue_here(_: &mut Cpu, _: &mut Memory, _: &Inst) -> ExecResult {
    Ok(())
}

/// How many linked blocks one dispatch from the loop may run before control goes
/// back to the loop. The threaded handlers pass control on as tail calls, which
/// the optimiser turns into jumps; in unoptimised builds every passing adds stack
/// frames, so there a block is never followed by another without the loop.
const CHAIN_BUDGET: u32 = if cfg!(debug_assertions) { 0 } else { 1 << 10 };

/// Runs the instruction at `at` and, through its threaded handler, all that
/// follows it until control needs the loop.
///
/// # Safety
///
/// As for [`crate::isa::Threaded`].
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) unsafe fn dispatch(
    cpu: &mut Cpu,
    mem: &mut Memory,
    code: *const Inst,
    at: *const Inst,
) -> ExecResult {
    // SAFETY: forwarded from the caller.
    unsafe { ((*at).threaded)(cpu, mem, code, at) }
}

/// Passes control to `at`, the next instruction of the running block.
///
/// Optimised builds turn the handlers' calls of one another into jumps, so a block
/// runs without growing the host stack. Unoptimised ones do not (and their frames
/// are large), so there, as in any build with debug assertions, every instruction
/// returns to the loop, which resumes the block at `at` (`Cpu::resume`). Both ways
/// run the same handlers with the same results.
///
/// # Safety
///
/// As for [`crate::isa::Threaded`].
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) unsafe fn step_on(
    cpu: &mut Cpu,
    mem: &mut Memory,
    code: *const Inst,
    at: *const Inst,
) -> ExecResult {
    if cfg!(debug_assertions) {
        // SAFETY: both point into the same cache (the contract).
        cpu.resume = unsafe { at.offset_from(code) } as u32;
        return Ok(());
    }
    // SAFETY: forwarded from the caller.
    unsafe { dispatch(cpu, mem, code, at) }
}

/// Threaded handler of a block's entry: charges the block's gas (`imm`) and counts
/// its instructions (`disp`) before the first one runs.
///
/// # Safety
///
/// As for [`crate::isa::Threaded`].
#[allow(unsafe_code)]
unsafe fn enter_block(
    cpu: &mut Cpu,
    mem: &mut Memory,
    code: *const Inst,
    at: *const Inst,
) -> ExecResult {
    // SAFETY: `at` is a cached instruction by the contract.
    let e = unsafe { &*at };
    if cpu.gas < e.imm {
        return Err(out_of_gas(cpu, e));
    }
    cpu.gas -= e.imm;
    cpu.retired += e.disp as u64;
    // SAFETY: an entry is followed by its block's first instruction (a block has
    // at least one).
    unsafe { step_on(cpu, mem, code, at.add(1)) }
}

#[cold]
#[inline(never)]
fn out_of_gas(cpu: &mut Cpu, entry: &Inst) -> Box<Exit> {
    cpu.gas = 0;
    cpu.rip = entry.addr;
    Trap::OutOfGas.into()
}

/// After a block's last instruction `at` set RIP: goes on to the next block
/// if it is linked, else returns to the loop, which finds it (and links it).
///
/// # Safety
///
/// As for [`crate::isa::Threaded`].
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) unsafe fn follow(
    cpu: &mut Cpu,
    mem: &mut Memory,
    code: *const Inst,
    at: *const Inst,
) -> ExecResult {
    // SAFETY: `at` is a cached instruction by the contract.
    let last = unsafe { &*at };
    let link = if cpu.rip == last.imm {
        last.link_taken
    } else if cpu.rip == last.next() {
        last.link_next
    } else {
        NO_LINK
    };
    // Code pages written by the block invalidate the cache: the loop handles that.
    if link != NO_LINK && cpu.chain_left != 0 && !mem.code_dirty() {
        // SAFETY: links are set by `CodeCache::link` to the entry of a cached
        // block, and the cache only grows until `clear`, which drops every link
        // with the instructions holding them.
        let entry = unsafe { code.add(link as usize) };
        // SAFETY: as above.
        let e = unsafe { &*entry };
        // The entry's work (see `enter_block`) done here, saving a dispatch per
        // block. Without the gas for it, the loop runs the entry, which traps.
        if cpu.gas >= e.imm && e.ssize != ENTRY_COMPILED {
            cpu.chain_left -= 1;
            cpu.gas -= e.imm;
            cpu.retired += e.disp as u64;
            // SAFETY: an entry is followed by its block's first instruction.
            return unsafe { dispatch(cpu, mem, code, entry.add(1)) };
        }
    }
    // SAFETY: both point into the same cache (the contract).
    cpu.link_from = unsafe { at.offset_from(code) } as u32;
    Ok(())
}

/// A handler failed at `i`: leaves RIP at `i` for a trap, and records where the
/// instruction was for host calls (whose RIP stays past the instruction).
#[cold]
#[inline(never)]
pub(crate) fn fault(cpu: &mut Cpu, i: &Inst, e: Box<Exit>) -> Box<Exit> {
    if let Exit::Trap(_) = *e {
        cpu.rip = i.addr;
    }
    cpu.exit_at = i.addr;
    e
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
    cache.set_fusion(!T::ENABLED);
    if T::ENABLED {
        return run_traced(cpu, mem, cache, tracer);
    }
    cpu.link_from = NO_LINK;
    cpu.resume = NO_LINK;
    // Nothing ran linked yet (the heat of the first block counts from here).
    cpu.chain_left = CHAIN_BUDGET;
    // The link slot (and cache generation) compiled code last left through.
    #[cfg(all(target_arch = "x86_64", unix))]
    let mut jit_pending: Option<(u32, u64)> = None;
    loop {
        let code = cache.insts.as_ptr();
        let done = if cpu.resume != NO_LINK {
            // The rest of a block (builds with debug assertions, see `step_on`).
            let at = std::mem::replace(&mut cpu.resume, NO_LINK);
            // SAFETY: `step_on` stored the index of a cached instruction, and the
            // cache has not changed since.
            #[allow(unsafe_code)]
            unsafe {
                dispatch(cpu, mem, code, code.add(at as usize))
            }
        } else {
            let rip = cpu.rip;
            if rip == 0 {
                return Stop::Returned;
            }
            let b = match cache.get_index(mem, rip) {
                Ok(b) => b,
                Err(t) => return Stop::Trap(t),
            };
            let block = cache.blocks[b as usize];
            if cpu.link_from != NO_LINK {
                cache.link(cpu.link_from, rip, block.entry);
                cpu.link_from = NO_LINK;
            }
            #[cfg(all(target_arch = "x86_64", unix))]
            {
                let pending = jit_pending.take();
                // Blocks the interpreter ran linked since the loop last saw one
                // count towards this one's heat: a hot loop linked in the
                // interpreter comes back here only every CHAIN_BUDGET blocks.
                let chained = CHAIN_BUDGET.saturating_sub(cpu.chain_left);
                cpu.chain_left = CHAIN_BUDGET;
                match cache.jit_entry(b, 1 + chained / 8) {
                    JitEntry::Interpret => {}
                    JitEntry::Retry => continue,
                    JitEntry::Run(host) => {
                        if let Some(p) = pending {
                            cache.jit_link(p, rip, host);
                        }
                        let Some(jit) = cache.jit.as_ref() else {
                            continue;
                        };
                        // SAFETY: `host` is the entry of a block compiled since
                        // the last reset (resets clear `Block::jit` with the
                        // blocks), and `mem` is this guest's memory.
                        #[allow(unsafe_code)]
                        let code = unsafe { jit.enter(cpu, mem, host) };
                        let payload = code >> 8;
                        match code & 0xff {
                            crate::jit::exit::LEAVE => {
                                jit_pending = Some((payload as u32, cache.generation));
                            }
                            crate::jit::exit::RESUME => {
                                cpu.resume = payload as u32;
                                if let Some(i) = cache.insts.get(payload as usize) {
                                    cpu.rip = i.addr;
                                }
                            }
                            _ => {
                                cpu.gas = 0;
                                return Stop::Trap(Trap::OutOfGas);
                            }
                        }
                        // Compiled code never writes code pages (such writes
                        // leave for the interpreter), so nothing else to check.
                        continue;
                    }
                }
            }
            cpu.chain_left = CHAIN_BUDGET;
            let code = cache.insts.as_ptr();
            // SAFETY: `block.entry` is the index of an entry in the cache's
            // instructions, which nothing changes until the call returns.
            #[allow(unsafe_code)]
            unsafe {
                dispatch(cpu, mem, code, code.add(block.entry as usize))
            }
        };
        if let Err(e) = done {
            return exit_to_stop(e, cpu);
        }
        // Mid-block (`resume` set) the cache must stay as it is: the block runs to
        // its end as decoded, as it does when its handlers pass control directly.
        if cpu.resume == NO_LINK && mem.take_code_dirty() {
            // Code the cache was built from changed: decode again from scratch. That
            // work is the guest's doing (a write to its own code, W^X off), so it
            // is metered: otherwise a loop rewriting its code would cost the host
            // ~100 times more time per unit of gas than any other code.
            cache.clear();
            cpu.link_from = NO_LINK;
            if cpu.gas < GAS_CODE_INVALIDATION {
                cpu.gas = 0;
                return Stop::Trap(Trap::OutOfGas);
            }
            cpu.gas -= GAS_CODE_INVALIDATION;
        }
    }
}

/// [`run`] one instruction at a time, with the tracer's hooks around each. Same
/// results and gas as the threaded loop.
fn run_traced<T: Tracer>(
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
        let first = block.entry as usize + 1;
        let insts = &cache.insts[first..first + block.count as usize];
        let Some((last, body)) = insts.split_last() else {
            return Stop::Trap(Trap::InvalidOpcode);
        };
        for inst in body {
            tracer.before(cpu, mem, inst);
            if let Err(e) = (inst.handler)(cpu, mem, inst) {
                return exit_to_stop(fault(cpu, inst, e), cpu);
            }
            tracer.after(cpu, mem, inst);
        }
        tracer.before(cpu, mem, last);
        cpu.rip = last.next();
        if let Err(e) = (last.handler)(cpu, mem, last) {
            return exit_to_stop(fault(cpu, last, e), cpu);
        }
        tracer.after(cpu, mem, last);
        if mem.take_code_dirty() {
            cache.clear();
            if cpu.gas < GAS_CODE_INVALIDATION {
                cpu.gas = 0;
                return Stop::Trap(Trap::OutOfGas);
            }
            cpu.gas -= GAS_CODE_INVALIDATION;
        }
    }
}

/// The loop's answer for a handler's [`Exit`] (RIP and `exit_at` set by [`fault`]).
#[cold]
#[allow(clippy::boxed_local)] // the exit as handlers return it (see `ExecResult`)
fn exit_to_stop(e: Box<Exit>, cpu: &mut Cpu) -> Stop {
    match *e {
        Exit::Trap(t) => Stop::Trap(t),
        Exit::Interrupt(n) => Stop::Interrupt(n as u8, cpu.exit_at),
        Exit::Syscall => Stop::Syscall(cpu.exit_at),
    }
}
