//! The block compiler: hot blocks from the interpreter's cache to host code.
//!
//! Guest and host are both x86-64, so most guest instructions become the same
//! instruction on the host, with guest registers kept in the guest `Cpu` (exact
//! state at every exit) and guest memory reached through the same one-page
//! permission check the interpreter's fast path makes. Guest status flags stay
//! in the host flags register between instructions, which is what makes
//! compare-and-branch cheap. Everything the templates do not cover — unusual
//! instructions, faults, page-crossing accesses, first writes to tracked pages,
//! writes to code pages — leaves for the interpreter at the instruction
//! concerned, before any of its effects, so results and gas are the
//! interpreter's by construction; `tests/jit.rs` and the determinism suite
//! compare the two on every program.
//!
//! Gas: a compiled block charges its gas and counts its instructions on entry,
//! exactly as the interpreter's block entry does; with too little gas it leaves
//! before charging and the loop reports out-of-gas as the interpreter would.
//!
//! Blocks are chained through link slots (host data, not code): a direct branch
//! jumps through its slot, which first points at an exit and, once the target is
//! compiled, at the target. Returns and indirect jumps look the target up in a
//! small direct-mapped table. Generated code is never writable and executable at
//! once.

mod access;
mod code_mem;
mod codes;
mod emit;
mod flags;

use iced_x86::code_asm::*;
use iced_x86::{BlockEncoderOptions, Encoder, Instruction};

use crate::cpu::{Cpu, flag};
use crate::ir::Inst;
use crate::mem::Memory;
use code_mem::CodeMem;
pub(crate) use emit::exit;
use emit::{Env, Offsets};

/// Host bytes reserved for code per instance (mapped lazily; only what is
/// written becomes resident). When full, the cache starts over.
const CODE_BYTES: usize = 16 << 20;
/// Link slots per instance (two per compiled block on average; when they run
/// out, branches exit to the loop, which still finds compiled targets).
const SLOTS: u32 = 1 << 14;
/// Entries of the indirect-jump table.
const TABLE_ENTRIES: usize = 2048;
/// A key no guest block can have (arenas end far below it).
const EMPTY_KEY: u64 = u64::MAX;

/// The trampoline's signature: cpu, arena data, permission bytes, block entry;
/// returns an exit code (see [`exit`]).
type Trampoline = unsafe extern "sysv64" fn(*mut Cpu, *mut u8, *const u8, u64) -> u64;

/// Compiled code of one instance.
pub(crate) struct Jit {
    code: CodeMem,
    /// Bytes of the trampoline and shared exits, kept by `reset`.
    prelude: usize,
    trampoline: u64,
    miss: u64,
    slots: Box<[u64]>,
    next_slot: u32,
    table: Box<[[u64; 2]]>,
    /// Code assembled but not yet made executable (see [`Jit::flush`]), and
    /// the initial values of its link slots.
    staged: Vec<u8>,
    staged_slots: Vec<(u32, u64)>,
    /// Blocks compiled since creation.
    compiled: u64,
    /// Blocks the assembler rejected (a template bug; tests require 0).
    errors: u64,
}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit")
            .field("code", &self.code)
            .field("slots", &self.next_slot)
            .finish()
    }
}

fn offsets() -> Offsets {
    use std::mem::offset_of;
    Offsets {
        gpr: offset_of!(Cpu, gpr) as i32,
        rip: offset_of!(Cpu, rip) as i32,
        gas: offset_of!(Cpu, gas) as i32,
        retired: offset_of!(Cpu, retired) as i32,
        fs_base: offset_of!(Cpu, fs_base) as i32,
        gs_base: offset_of!(Cpu, gs_base) as i32,
        flags: offset_of!(Cpu, jit_flags) as i32,
        mem_base: offset_of!(Cpu, jit_mem) as i32,
        mem_pages: (offset_of!(Cpu, jit_mem) + 8) as i32,
    }
}

/// Whether this host runs the generated code: LAHF/SAHF in 64-bit mode
/// (CPUID 0x8000_0001 ECX bit 0), which the templates use to keep flags.
fn host_supported() -> bool {
    // Leaf 0x8000_0000 reports the highest extended leaf, checked before
    // reading 0x8000_0001.
    use std::arch::x86_64::__cpuid;
    __cpuid(0x8000_0000).eax >= 0x8000_0001 && __cpuid(0x8000_0001).ecx & 1 != 0
}

impl Jit {
    /// A compiler with its trampoline, or `None` when the host cannot run
    /// generated code (then the interpreter runs everything).
    pub(crate) fn new() -> Option<Jit> {
        if !host_supported() {
            return None;
        }
        let mut code = CodeMem::new(CODE_BYTES)?;
        let off = offsets();
        let at = code.cursor();
        let (bytes, miss_at) = prelude(off, at).ok()?;
        code.append(&bytes).ok()?;
        let table = vec![[EMPTY_KEY, miss_at]; TABLE_ENTRIES].into_boxed_slice();
        Some(Jit {
            prelude: code.used(),
            code,
            trampoline: at,
            miss: miss_at,
            slots: vec![0u64; SLOTS as usize].into_boxed_slice(),
            next_slot: 0,
            table,
            staged: Vec::new(),
            staged_slots: Vec::new(),
            compiled: 0,
            errors: 0,
        })
    }

    /// Drops all compiled blocks (the interpreter's cache was cleared).
    pub(crate) fn reset(&mut self) {
        self.staged.clear();
        self.staged_slots.clear();
        self.code.truncate(self.prelude);
        self.next_slot = 0;
        self.table.fill([EMPTY_KEY, self.miss]);
    }

    /// Host bytes this compiler holds: code, link slots, lookup table.
    pub(crate) fn retained_bytes(&self) -> u64 {
        (self.code.used() + self.slots.len() * 8 + self.table.len() * 16) as u64
    }

    /// Host bytes of generated code, blocks compiled, blocks the assembler
    /// rejected.
    pub(crate) fn stats(&self) -> JitStats {
        JitStats {
            code_bytes: self.code.used(),
            compiled: self.compiled,
            errors: self.errors,
        }
    }

    /// Compiles one block (see [`emit::compile_block`]) into the staging
    /// buffer; its host entry once [`Jit::flush`] succeeded, or `None` when it
    /// cannot be compiled (no template for its first instruction).
    ///
    /// # Errors
    /// [`Full::NoRoom`] when the code space is used up.
    pub(crate) fn compile(
        &mut self,
        insts: &[Inst],
        first_index: u32,
        block_addr: u64,
        gas: u64,
        count: u64,
        end: u64,
    ) -> Result<Option<u64>, Full> {
        let first_slot = self.next_slot;
        let mut slot_stubs = Vec::new();
        let mut env = Env {
            off: offsets(),
            slot_base: self.slots.as_ptr() as u64,
            next_slot: &mut self.next_slot,
            slot_limit: SLOTS,
            slot_stubs: &mut slot_stubs,
            table: self.table.as_ptr() as u64,
            table_mask: TABLE_ENTRIES as u32 - 1,
            miss: self.miss,
        };
        let asm = emit::compile_block(&mut env, insts, first_index, block_addr, gas, count, end);
        let mut a = match asm {
            Ok(Some(a)) => a,
            Ok(None) => {
                self.next_slot = first_slot;
                return Ok(None);
            }
            Err(_) => {
                // A template the assembler rejects: leave the block to the
                // interpreter. Counted: the tests require none.
                self.errors += 1;
                self.next_slot = first_slot;
                return Ok(None);
            }
        };
        let ip = self.code.cursor() + self.staged.len() as u64;
        let start = self.staged.len();
        let Some(offsets) = encode(&a.take_instructions(), ip, &mut self.staged) else {
            self.errors += 1;
            self.next_slot = first_slot;
            return Ok(None);
        };
        if self.staged.len() > self.code.free() {
            self.staged.truncate(start);
            self.next_slot = first_slot;
            return Err(Full::NoRoom);
        }
        for (slot, index) in slot_stubs {
            self.staged_slots
                .push((slot, ip + u64::from(offsets[index])));
        }
        self.compiled += 1;
        Ok(Some(ip))
    }

    /// Makes the blocks compiled since the last flush executable (one
    /// protection change for all). Their entries are valid only after this
    /// succeeded; on failure they must not be used.
    pub(crate) fn flush(&mut self) -> Result<(), Full> {
        let staged = std::mem::take(&mut self.staged);
        let result = self.code.append(&staged);
        self.staged = staged;
        self.staged.clear();
        if let Err(e) = result {
            self.staged_slots.clear();
            return Err(match e {
                code_mem::AppendError::NoRoom => Full::NoRoom,
                code_mem::AppendError::Os => Full::Broken,
            });
        }
        for (slot, at) in self.staged_slots.drain(..) {
            self.slots[slot as usize] = at;
        }
        Ok(())
    }

    /// Points link slot `slot` (an exit's payload minus one) at compiled code.
    pub(crate) fn link(&mut self, slot: u32, host: u64) {
        if slot < self.next_slot
            && let Some(s) = self.slots.get_mut(slot as usize)
        {
            *s = host;
        }
    }

    /// Lets indirect jumps to `rip` go straight to its compiled code.
    pub(crate) fn remember(&mut self, rip: u64, host: u64) {
        let i = ((rip ^ (rip >> 12)) as usize) & (TABLE_ENTRIES - 1);
        self.table[i] = [rip, host];
    }

    /// Runs compiled code from the block entry `host` until it leaves; returns
    /// the exit code (see [`exit`]). Guest flags go in and come back through
    /// `Cpu::jit_flags`.
    ///
    /// # Safety
    ///
    /// `host` must be an entry returned by [`Jit::compile`] since the last
    /// [`Jit::reset`], and `mem` the memory the running guest uses.
    #[allow(unsafe_code)]
    pub(crate) unsafe fn enter(&self, cpu: &mut Cpu, mem: &mut Memory, host: u64) -> u64 {
        let (data, perms, pages, base) = mem.jit_view();
        cpu.jit_mem = [base, pages];
        // Only status flags go to the host (never DF, TF or AC): bit 1 and IF are
        // fixed, and the host ABI wants DF clear.
        cpu.jit_flags = (cpu.status() & flag::STATUS) | 0x202;
        // SAFETY: `trampoline` is the code `prelude` assembled for this signature,
        // in memory this Jit owns and keeps executable. The code it calls touches
        // only the Cpu (fixed offsets), the arena bytes within `pages` pages of
        // `data` (`Cpu::jit_mem`) after a permission check of each access, and
        // this Jit's slots and table; it keeps the stack balanced and returns here.
        let code = unsafe {
            let f: Trampoline = std::mem::transmute::<u64, Trampoline>(self.trampoline);
            f(cpu, data, perms, host)
        };
        cpu.set_status(cpu.jit_flags & flag::STATUS);
        code
    }
}

/// What the block compiler of an instance has done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Host bytes of generated code held now.
    pub code_bytes: usize,
    /// Blocks compiled since the instance was created.
    pub compiled: u64,
    /// Blocks the host assembler rejected (left to the interpreter). Always 0
    /// unless a template is wrong; the tests check.
    pub errors: u64,
}

/// Why a block could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Full {
    /// No room: drop every compiled block (`reset`) and start over.
    NoRoom,
    /// The host refused to make code executable: stop using this compiler.
    Broken,
}

/// Encodes `code` (from the code assembler: labelled instructions carry their
/// label's id as IP, branches to a label its id as target, every branch near)
/// to run at `ip`, appending to `out`; returns each instruction's offset from
/// `ip`. One pass and a patch of the branch displacements: iced-x86's block
/// encoder allocates per instruction, and compile time is most of what a
/// short call on a fresh instance pays for the compiler.
/// `None` when an instruction does not encode (a template bug).
fn encode(code: &[Instruction], ip: u64, out: &mut Vec<u8>) -> Option<Vec<u32>> {
    let mut enc = Encoder::new(64);
    let mut offsets = Vec::with_capacity(code.len() + 1);
    let mut labels = rustc_hash::FxHashMap::default();
    let mut fixups = Vec::new();
    let mut at = 0u32;
    for ins in code {
        offsets.push(at);
        if ins.ip() != 0 {
            labels.insert(ins.ip(), at);
        }
        let here = ip + u64::from(at);
        let len = if ins.is_jcc_near() || ins.is_jmp_near() {
            // Encoded branching to itself; the displacement is patched below.
            let mut b = *ins;
            b.set_near_branch64(here);
            let len = enc.encode(&b, here).ok()? as u32;
            fixups.push((at + len - 4, at + len, ins.near_branch64()));
            len
        } else {
            if ins.is_jcc_short() || ins.is_jmp_short() || ins.is_call_near() {
                return None;
            }
            enc.encode(ins, here).ok()? as u32
        };
        at += len;
    }
    offsets.push(at);
    let mut buf = enc.take_buffer();
    for (field, next, label) in fixups {
        let target = *labels.get(&label)?;
        let disp = (i64::from(target) - i64::from(next)) as i32;
        buf[field as usize..field as usize + 4].copy_from_slice(&disp.to_le_bytes());
    }
    out.extend_from_slice(&buf);
    Some(offsets)
}

/// Assembles the trampoline (at `at`) and the shared indirect-miss exit; returns
/// the bytes and the exit's address.
fn prelude(off: Offsets, at: u64) -> Result<(Vec<u8>, u64), iced_x86::IcedError> {
    let mut a = CodeAssembler::new(64)?;
    for r in [rbx, rbp, r12, r13, r14, r15] {
        a.push(r)?;
    }
    a.mov(r15, rdi)?;
    // r14: the arena's first byte minus the guest base, so that guest address
    // `g` (once checked) is at [r14 + g].
    a.mov(r14, rsi)?;
    a.sub(r14, qword_ptr(r15 + off.mem_base))?;
    a.mov(r13, rdx)?;
    a.push(qword_ptr(r15 + off.flags))?;
    a.popfq()?;
    a.call(rcx)?;
    for r in [r15, r14, r13, r12, rbp, rbx] {
        a.pop(r)?;
    }
    a.ret()?;
    // Indirect miss: target in rcx, guest flags in RFLAGS.
    let mut miss = a.create_label();
    a.set_label(&mut miss)?;
    a.pushfq()?;
    a.pop(rax)?;
    a.mov(qword_ptr(r15 + off.flags), rax)?;
    a.mov(qword_ptr(r15 + off.rip), rcx)?;
    a.mov(rax, exit::LEAVE)?;
    a.ret()?;
    let res = a.assemble_options(at, BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS)?;
    let miss_at = res.label_ip(&miss)?;
    Ok((res.inner.code_buffer, miss_at))
}
