//! Host code templates: one decoded block ([`Inst`]s) to x86-64 host code.
//!
//! Register use inside generated code (set up by the trampoline, see `mod.rs`):
//! r15 = the guest [`Cpu`](crate::cpu::Cpu), r14 = the arena's first byte,
//! r13 = the per-page permission bytes; rax, rcx, rdx, rsi, rdi are scratch.
//! The guest registers a block uses most are held in host registers (rbx, rbp,
//! r8..r12) while it runs: loaded after its gas check, written back to the
//! `Cpu` at every exit, so the state is exact wherever control leaves. The
//! others are used in place in the `Cpu`.
//!
//! Guest status flags live in the host RFLAGS between instructions. Code the
//! compiler adds that changes flags (memory checks, gas) first saves them in AX
//! (`seto al; lahf`, put back with `add al, 0x7f; sahf`) and puts them back
//! wherever a later instruction could read them; every exit reports them as
//! the guest left them.

use iced_x86::code_asm::*;
use iced_x86::{Code, IcedError, Instruction, MemoryOperand, Register};

use super::access::{Class, Plan, plan_accesses};
use super::codes::{self, Form};
use super::flags::{fits_i32, flag_use, live_before};
use crate::ir::{Inst, Loc, NO_REG, Op, seg};

/// Exit codes in RAX when generated code returns to the trampoline (low byte),
/// with a payload above it.
pub(crate) mod exit {
    /// Left the block for `cpu.rip`; payload: link slot + 1 (0: an indirect jump).
    pub const LEAVE: u64 = 1;
    /// The interpreter takes over at the cached instruction whose index is the
    /// payload (the block's gas is paid).
    pub const RESUME: u64 = 2;
    /// Not enough gas to enter the block at `cpu.rip`.
    pub const OUT_OF_GAS: u64 = 3;
}

/// Byte offsets of the fields generated code touches in the guest `Cpu`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Offsets {
    pub gpr: i32,
    pub rip: i32,
    pub gas: i32,
    pub retired: i32,
    pub fs_base: i32,
    pub gs_base: i32,
    pub flags: i32,
    /// The arena's guest base address and page count (`Cpu::jit_mem`).
    pub mem_base: i32,
    pub mem_pages: i32,
}

/// An out-of-line exit, emitted after the block's code.
enum Stub {
    /// Hand the block to the interpreter at cached instruction `index`.
    Resume {
        label: CodeLabel,
        index: u32,
        restore: bool,
        mask_af: bool,
    },
    /// Leave for the fixed address `target` through link slot `slot`.
    Leave {
        label: CodeLabel,
        target: u64,
        slot: u32,
    },
    /// The block's gas is not there.
    OutOfGas {
        label: CodeLabel,
        addr: u64,
        restore: bool,
    },
}

/// What a compiled block needs from the rest of the compiler.
pub(crate) struct Env<'a> {
    pub off: Offsets,
    /// Host address of link slot 0 (slots are 8 bytes each).
    pub slot_base: u64,
    /// Next free slot; `slot_limit` is one past the last.
    pub next_slot: &'a mut u32,
    pub slot_limit: u32,
    /// Address the new slots must start with for each stub, filled in after
    /// assembly: (slot, index of the stub's first instruction).
    pub slot_stubs: &'a mut Vec<(u32, usize)>,
    /// Host address of the indirect-jump table and its mask (entries - 1).
    pub table: u64,
    pub table_mask: u32,
    /// Host address of the shared indirect-miss exit.
    pub miss: u64,
}

/// Host registers that hold guest registers (hardware numbers): callee-saved
/// ones the trampoline preserves, and r8..r11.
const CACHE_REGS: [u8; 7] = [3, 5, 8, 9, 10, 11, 12];

/// Compiles the guest instructions `insts` (a block as the interpreter cached
/// it, without its entry; `first_index` is the cache index of `insts[0]`),
/// charging `gas` and counting `count` retired instructions on entry like the
/// interpreter's block entry does. `end` is where control goes after the last
/// instruction when it does not transfer control itself.
///
/// Returns the assembler holding the code (entry at its first instruction), or
/// `None` when the block's first instruction has no template.
#[allow(clippy::too_many_arguments)]
pub(crate) fn compile_block(
    env: &mut Env<'_>,
    insts: &[Inst],
    first_index: u32,
    block_addr: u64,
    gas: u64,
    count: u64,
    end: u64,
) -> Result<Option<CodeAssembler>, IcedError> {
    let n = (0..insts.len())
        .position(|k| {
            let i = &insts[k];
            !super::flags::supported(i)
                || (super::flags::undefined_flags(i) && !super::flags::flags_die(insts, k))
        })
        .unwrap_or(insts.len());
    if n == 0 {
        return Ok(None);
    }
    let body = &insts[..n];
    let live = live_before(body);
    let mut a = CodeAssembler::new(64)?;
    // Near branches only: `jit::encode` lays the code out in one pass.
    a.set_prefer_short_branch(false);
    let mut c = Compiler {
        a,
        env,
        stubs: Vec::new(),
        live,
        af_dirty: false,
        first_index,
        flags_in_ax: false,
        home: allocate(body),
        dirty: 0,
        plan: plan_accesses(body),
    };
    c.prologue(block_addr, gas, count)?;
    for (k, i) in body.iter().enumerate() {
        c.inst(k, i)?;
    }
    let last = &body[n - 1];
    c.settle()?;
    if n < insts.len() {
        // The rest runs in the interpreter.
        let l = c.resume_stub(n, false);
        c.a.jmp(l)?;
    } else if !last.ends_block() {
        c.write_back()?;
        c.leave_to(end)?;
    }
    c.emit_stubs()?;
    Ok(Some(c.a))
}

/// Where each guest register lives while the block runs: the host register
/// (hardware number) holding it, or `None` (in the `Cpu`). The registers used
/// at least twice, most used first, get the host registers.
fn allocate(body: &[Inst]) -> [Option<u8>; 16] {
    let mut uses = [0u32; 16];
    for i in body {
        let mem = i.dst == Loc::Mem || i.src == Loc::Mem || i.op == Op::Lea;
        if i.dst == Loc::Reg && i.dreg < 16 {
            uses[usize::from(i.dreg)] += 1;
        }
        if i.src == Loc::Reg && i.sreg < 16 {
            uses[usize::from(i.sreg)] += 1;
        }
        if mem {
            for r in [i.base, i.index] {
                if r < 16 {
                    uses[usize::from(r)] += 1;
                }
            }
        }
        if matches!(i.op, Op::Push | Op::Pop | Op::Call | Op::Ret | Op::CallInd) {
            uses[4] += 1;
        }
    }
    let mut order: Vec<usize> = (0..16).filter(|&r| uses[r] >= 2).collect();
    order.sort_by_key(|&r| (std::cmp::Reverse(uses[r]), r));
    let mut home = [None; 16];
    for (r, h) in order.into_iter().zip(CACHE_REGS) {
        home[r] = Some(h);
    }
    home
}

struct Compiler<'e, 'a> {
    a: CodeAssembler,
    env: &'e mut Env<'a>,
    stubs: Vec<Stub>,
    /// Flags live before each instruction.
    live: Vec<bool>,
    /// The last flag writer so far was a logic op whose (host-defined) AF was not
    /// canonicalised, because the flags were dead: exits must clear AF.
    af_dirty: bool,
    first_index: u32,
    /// The guest flags are in AX (`seto al; lahf`) and the host flags are
    /// scratch: a check found them dead and did not put them back.
    flags_in_ax: bool,
    /// Host register of each cached guest register.
    home: [Option<u8>; 16],
    /// Cached guest registers written so far (bit per guest register).
    dirty: u16,
    /// How each instruction's memory operand is checked.
    plan: Vec<Plan>,
}

type R = Result<(), IcedError>;

/// Registers by hardware number, for each operand size.
const REGS: [[Register; 16]; 4] = {
    use Register::*;
    [
        [
            AL, CL, DL, BL, SPL, BPL, SIL, DIL, R8L, R9L, R10L, R11L, R12L, R13L, R14L, R15L,
        ],
        [
            AX, CX, DX, BX, SP, BP, SI, DI, R8W, R9W, R10W, R11W, R12W, R13W, R14W, R15W,
        ],
        [
            EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, R8D, R9D, R10D, R11D, R12D, R13D, R14D, R15D,
        ],
        [
            RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15,
        ],
    ]
};

/// Host register `num` (hardware number) at `size` bytes.
fn hreg(num: u8, size: u8) -> Register {
    let s = match size {
        1 => 0,
        2 => 1,
        4 => 2,
        _ => 3,
    };
    REGS[s][usize::from(num & 15)]
}

const RCX: u8 = 1;
const RDX: u8 = 2;

/// An operand of a host instruction.
#[derive(Clone, Copy)]
enum O {
    R(Register),
    M(MemoryOperand),
    I(i32),
}

fn mem_at(base: Register, index: Register, scale: u32, disp: i64) -> MemoryOperand {
    // iced-x86's encoding sizes: 1 for disp8, the address size (8) for disp32.
    let size = if disp == 0 {
        0
    } else if disp == i64::from(disp as i8) {
        1
    } else {
        8
    };
    MemoryOperand::new(base, index, scale, disp, size, false, Register::None)
}

/// The guest memory operand at the guest address in rsi (r14 is the arena's
/// first byte minus the guest base, so no flag-changing arithmetic is needed).
fn guest() -> MemoryOperand {
    mem_at(Register::R14, Register::RSI, 1, 0)
}

/// An immediate as the host instruction of `size` bytes takes it.
fn imm_for(size: u8, imm: u64) -> i32 {
    match size {
        1 => i32::from(imm as i8),
        2 => i32::from(imm as i16),
        _ => imm as i32,
    }
}

impl Compiler<'_, '_> {
    fn emit(&mut self, i: Result<Instruction, IcedError>) -> R {
        self.a.add_instruction(i?)
    }

    /// The guest register `r`'s slot in the `Cpu`.
    fn slot(&self, r: u8) -> MemoryOperand {
        mem_at(
            Register::R15,
            Register::None,
            1,
            i64::from(self.env.off.gpr + 8 * i32::from(r & 15)),
        )
    }

    /// Guest register `r` as an operand of `size` bytes (read or written in
    /// place; a write to an uncached one must be 64-bit or go through `set`).
    fn greg(&self, r: u8, size: u8) -> O {
        match self.home[usize::from(r & 15)] {
            Some(h) => O::R(hreg(h, size)),
            None => O::M(self.slot(r)),
        }
    }

    /// `mov` of 8 bytes from guest register `r` into scratch register `to`.
    fn get(&mut self, to: u8, r: u8) -> R {
        let dst = hreg(to, 8);
        match self.greg(r, 8) {
            O::R(h) => self.emit(Instruction::with2(Code::Mov_r64_rm64, dst, h)),
            O::M(m) => self.emit(Instruction::with2(Code::Mov_r64_rm64, dst, m)),
            O::I(_) => unreachable!(),
        }
    }

    /// `mov` of 8 bytes from scratch register `from` into guest register `r`.
    fn set(&mut self, r: u8, from: u8) -> R {
        let src = hreg(from, 8);
        self.dirty |= 1 << (r & 15);
        match self.greg(r, 8) {
            O::R(h) => self.emit(Instruction::with2(Code::Mov_r64_rm64, h, src)),
            O::M(m) => self.emit(Instruction::with2(Code::Mov_rm64_r64, m, src)),
            O::I(_) => unreachable!(),
        }
    }

    /// The two-operand `op` (ALU or `mov`) at `size` bytes on `dst`, `src`.
    fn op2(&mut self, op: Op, size: u8, dst: O, src: O) -> R {
        let ins = match (dst, src) {
            (O::R(d), O::R(s)) => Instruction::with2(codes::alu(op, size, Form::RmR), d, s),
            (O::R(d), O::M(m)) if op == Op::Test => {
                Instruction::with2(codes::alu(op, size, Form::RmR), m, d)
            }
            (O::R(d), O::M(m)) => Instruction::with2(codes::alu(op, size, Form::RRm), d, m),
            (O::M(m), O::R(s)) => Instruction::with2(codes::alu(op, size, Form::RmR), m, s),
            (O::R(d), O::I(v)) => Instruction::with2(codes::alu(op, size, Form::RmImm), d, v),
            (O::M(m), O::I(v)) => Instruction::with2(codes::alu(op, size, Form::RmImm), m, v),
            _ => unreachable!("no memory-to-memory form"),
        };
        self.emit(ins)
    }

    /// Loads the cached guest registers from the `Cpu`.
    fn load_cached(&mut self) -> R {
        for r in 0..16u8 {
            if let Some(h) = self.home[usize::from(r)] {
                let m = self.slot(r);
                self.emit(Instruction::with2(Code::Mov_r64_rm64, hreg(h, 8), m))?;
            }
        }
        Ok(())
    }

    /// Stores the cached guest registers in `mask` to the `Cpu`.
    fn store_cached(&mut self, mask: u16) -> R {
        for r in 0..16u8 {
            if let (Some(h), true) = (self.home[usize::from(r)], mask & (1 << r) != 0) {
                let m = self.slot(r);
                self.emit(Instruction::with2(Code::Mov_rm64_r64, m, hreg(h, 8)))?;
            }
        }
        Ok(())
    }

    /// Writes back what changed so far (before leaving the block).
    fn write_back(&mut self) -> R {
        self.store_cached(self.dirty)
    }

    /// Charges the block's gas and counts its instructions, as the interpreter's
    /// block entry does; leaves with "out of gas" (nothing charged) when short.
    fn prologue(&mut self, addr: u64, gas: u64, count: u64) -> R {
        // The flags are saved even when the block overwrites them before reading:
        // an out-of-gas stop reports them as they were.
        let oog = self.a.create_label();
        self.a.seto(al)?;
        self.a.lahf()?;
        let off = self.env.off;
        self.a.mov(rdx, qword_ptr(r15 + off.gas))?;
        self.a.mov(rcx, gas)?;
        self.a.sub(rdx, rcx)?;
        self.a.jb(oog)?;
        self.a.mov(qword_ptr(r15 + off.gas), rdx)?;
        self.a.mov(rcx, count)?;
        self.a.add(qword_ptr(r15 + off.retired), rcx)?;
        self.flags_in_ax = true;
        self.stubs.push(Stub::OutOfGas {
            label: oog,
            addr,
            restore: true,
        });
        self.load_cached()?;
        if self.live[0] {
            self.settle()?;
        }
        Ok(())
    }

    /// When the guest flags are held in AX (see `flags_in_ax`), puts them back.
    fn settle(&mut self) -> R {
        if self.flags_in_ax {
            self.a.add(al, 0x7f)?;
            self.a.sahf()?;
            self.flags_in_ax = false;
        }
        Ok(())
    }

    /// A label that exits to the interpreter at body instruction `k`.
    fn resume_stub(&mut self, k: usize, restore: bool) -> CodeLabel {
        let label = self.a.create_label();
        self.stubs.push(Stub::Resume {
            label,
            index: self.first_index + k as u32,
            restore,
            mask_af: self.af_dirty,
        });
        label
    }

    /// Guest effective address of `i`'s memory operand into rsi (rdx scratch).
    /// Flags untouched.
    fn address(&mut self, i: &Inst) -> R {
        let disp = i.disp;
        let small = fits_i32(disp as u64);
        let d = if small { disp } else { 0 };
        let reg_of = |c: &mut Self, r: u8, scratch: u8| -> Result<Register, IcedError> {
            if r == NO_REG {
                return Ok(Register::None);
            }
            match c.greg(r, 8) {
                O::R(h) => Ok(h),
                _ => {
                    c.get(scratch, r)?;
                    Ok(hreg(scratch, 8))
                }
            }
        };
        // Index first: it may need rdx, and the base rsi.
        let index = reg_of(self, i.index, RDX)?;
        let base = reg_of(self, i.base, 6)?;
        if base == Register::None && index == Register::None {
            self.a.mov(rsi, disp as u64)?;
        } else {
            let m = mem_at(base, index, 1 << (i.scale & 3), d);
            self.emit(Instruction::with2(Code::Lea_r64_m, Register::RSI, m))?;
            if !small {
                self.a.mov(rdx, disp as u64)?;
                self.a.lea(rsi, qword_ptr(rsi + rdx))?;
            }
        }
        if i.addr32 {
            self.a.mov(esi, esi)?;
        }
        let segment = match i.seg {
            seg::FS => Some(self.env.off.fs_base),
            seg::GS => Some(self.env.off.gs_base),
            _ => None,
        };
        if let Some(o) = segment {
            self.a.mov(rdx, qword_ptr(r15 + o))?;
            self.a.lea(rsi, qword_ptr(rsi + rdx))?;
        }
        Ok(())
    }

    /// Starts a memory check before body instruction `k`: the guest flags go to
    /// AX (unless already there) — they are part of the state the interpreter
    /// gets if the access traps. Returns whether they must go back to the host
    /// flags after the check (something may read them; `inc`/`dec` keep CF),
    /// and the exit to the interpreter at `k`.
    fn begin_check(&mut self, k: usize, i: &Inst) -> Result<(bool, CodeLabel), IcedError> {
        let keep = self.live[k] || matches!(i.op, Op::Inc | Op::Dec);
        if !self.flags_in_ax {
            self.a.seto(al)?;
            self.a.lahf()?;
            self.flags_in_ax = true;
        }
        Ok((keep, self.resume_stub(k, true)))
    }

    /// Ends a check (see `begin_check`); flags not put back stay in AX, where
    /// later checks find them.
    fn end_check(&mut self, keep: bool) -> R {
        if keep {
            self.settle()?;
        }
        Ok(())
    }

    /// Goes to `slow` unless the page holding the guest address in rdx is in
    /// the arena and its permission bits, masked with the rule's mask, equal its
    /// wanted bits — the interpreter's fast-path rule (`Memory::probe_*`).
    /// Clobbers rdx.
    fn page_check(&mut self, slow: CodeLabel, class: Class) -> R {
        let (mask, want) = class.rule();
        let off = self.env.off;
        let a = &mut self.a;
        a.sub(rdx, qword_ptr(r15 + off.mem_base))?;
        a.shr(rdx, 12)?;
        a.cmp(rdx, qword_ptr(r15 + off.mem_pages))?;
        a.jae(slow)?;
        if mask == want && mask.count_ones() == 1 {
            // One bit needed (reads): test it in place.
            a.test(byte_ptr(r13 + rdx), i32::from(mask))?;
            a.je(slow)
        } else {
            a.movzx(edx, byte_ptr(r13 + rdx))?;
            a.and(edx, i32::from(mask))?;
            a.cmp(edx, i32::from(want))?;
            a.jne(slow)
        }
    }

    /// Checks the `n`-byte access of `class` at the guest address in rsi, or
    /// exits to the interpreter at body instruction `k` (before any of its
    /// effects) when it is not within one page that passes the rule;
    /// everything else (faults, page-crossing, first writes to tracked pages,
    /// code pages) the interpreter does.
    fn check(&mut self, k: usize, i: &Inst, n: u8, class: Class) -> R {
        let (keep, slow) = self.begin_check(k, i)?;
        self.a.mov(rdx, rsi)?;
        self.page_check(slow, class)?;
        if n > 1 {
            // Within the page (a single byte always is). The guest base is
            // page-aligned: the offset's low 12 bits are the address's.
            self.a.mov(edx, esi)?;
            self.a.and(edx, 0xfff)?;
            self.a.cmp(edx, 4096 - i32::from(n))?;
            self.a.ja(slow)?;
        }
        self.end_check(keep)
    }

    /// The host memory operand for `i`'s `n`-byte memory operand of `class`,
    /// after whatever check its plan calls for.
    fn access(
        &mut self,
        k: usize,
        i: &Inst,
        n: u8,
        class: Class,
    ) -> Result<MemoryOperand, IcedError> {
        let plan = self.plan.get(k).copied().unwrap_or(Plan::Alone);
        if plan == Plan::Alone {
            self.address(i)?;
            self.check(k, i, n, class)?;
            return Ok(guest());
        }
        let base = match self.greg(i.base, 8) {
            O::R(h) => h,
            _ => {
                self.get(6, i.base)?;
                Register::RSI
            }
        };
        if let Plan::Lead { lo, span } = plan {
            self.check_range(k, i, base, lo, span, class)?;
            if base == Register::RSI {
                self.get(6, i.base)?;
            }
        }
        Ok(mem_at(Register::R14, base, 1, i.disp))
    }

    /// The check of a group's leader: both pages of `[base + lo, base + lo +
    /// span)` must pass `class`'s rule, else the interpreter runs from `k`.
    fn check_range(
        &mut self,
        k: usize,
        i: &Inst,
        base: Register,
        lo: i32,
        span: u32,
        class: Class,
    ) -> R {
        let (keep, slow) = self.begin_check(k, i)?;
        self.emit(Instruction::with2(
            Code::Lea_r64_m,
            Register::RSI,
            mem_at(base, Register::None, 1, i64::from(lo)),
        ))?;
        self.a.mov(rdx, rsi)?;
        self.page_check(slow, class)?;
        self.a.lea(rdx, qword_ptr(rsi + (span as i32 - 1)))?;
        self.page_check(slow, class)?;
        self.end_check(keep)
    }

    /// After an instruction: keeps track of the state of AF (see `af_dirty`),
    /// clearing a logic op's undefined AF when the flags may still be read.
    fn after_flags(&mut self, k: usize, i: &Inst) -> R {
        let u = flag_use(i);
        if !u.writes_all && !matches!(i.op, Op::Inc | Op::Dec) {
            return Ok(());
        }
        // The host flags are the guest's again.
        self.flags_in_ax = false;
        self.af_dirty = false;
        if !u.logic {
            return Ok(());
        }
        let live_after = self.live.get(k + 1).copied().unwrap_or(true);
        if live_after || i.op == Op::Jcc {
            // OF and CF are 0 after a logic op and after `and ah, imm` alike.
            self.a.lahf()?;
            self.a.and(ah, 0xef)?;
            self.a.sahf()?;
        } else {
            self.af_dirty = true;
        }
        Ok(())
    }

    fn inst(&mut self, k: usize, i: &Inst) -> R {
        let u = flag_use(i);
        if (u.reads || (!u.writes_all && matches!(i.op, Op::Inc | Op::Dec)) || i.ends_block())
            && (i.dst == Loc::Reg || !matches!(i.op, Op::Inc | Op::Dec))
        {
            // Reads flags, keeps some, or leaves: they must be in place (liveness
            // makes this a no-op but for `inc`/`dec` with dead flags).
            self.settle()?;
        }
        match i.op {
            Op::Nop => Ok(()),
            Op::Mov
            | Op::Add
            | Op::Sub
            | Op::And
            | Op::Or
            | Op::Xor
            | Op::Adc
            | Op::Sbb
            | Op::Cmp
            | Op::Test => {
                self.alu(k, i)?;
                self.after_flags(k, i)
            }
            Op::Inc | Op::Dec | Op::Neg | Op::Not => {
                self.unary(k, i)?;
                self.after_flags(k, i)
            }
            Op::Lea => {
                self.address(i)?;
                if i.size == 4 {
                    self.a.mov(esi, esi)?;
                }
                self.set(i.dreg, 6)
            }
            Op::Shl | Op::Shr | Op::Sar | Op::Rol | Op::Ror => {
                self.shift(k, i)?;
                self.after_flags(k, i)
            }
            Op::Imul2 => {
                self.imul(k, i)?;
                self.after_flags(k, i)
            }
            Op::Movzx | Op::Movsx => self.extend(k, i),
            Op::Cmov => self.cmov(k, i),
            Op::Setcc => self.setcc(k, i),
            Op::Push => {
                match i.dst {
                    Loc::Reg => self.get(RCX, i.dreg)?,
                    _ => self.a.mov(rcx, i.imm)?,
                }
                self.push_rcx(k, i)
            }
            Op::Pop => {
                self.pop_rcx(k, i, 0)?;
                self.set(i.dreg, RCX)
            }
            Op::Jmp => {
                self.write_back()?;
                self.leave_to(i.imm)
            }
            Op::Call => {
                self.a.mov(rcx, i.next())?;
                self.push_rcx(k, i)?;
                self.write_back()?;
                self.leave_to(i.imm)
            }
            Op::Ret => {
                self.pop_rcx(k, i, i.imm as i32)?;
                self.leave_indirect()
            }
            Op::JmpInd | Op::CallInd => {
                match i.dst {
                    Loc::Reg => self.get(RCX, i.dreg)?,
                    _ => {
                        let m = self.access(k, i, 8, Class::Read)?;
                        self.emit(Instruction::with2(Code::Mov_r64_rm64, Register::RCX, m))?;
                    }
                }
                if i.op == Op::CallInd {
                    // Every scratch register has a part in the push: the target
                    // waits in the `Cpu`'s RIP (which every exit sets anyway).
                    let rip = self.env.off.rip;
                    self.a.mov(qword_ptr(r15 + rip), rcx)?;
                    self.a.mov(rcx, i.next())?;
                    self.push_rcx(k, i)?;
                    self.a.mov(rcx, qword_ptr(r15 + rip))?;
                }
                self.leave_indirect()
            }
            Op::Jcc => {
                if let Some(cmp) = crate::isa::fused_compare(i) {
                    self.alu(k, &cmp)?;
                    self.after_flags(k, i)?;
                }
                // Plain moves: the flags survive the write-back.
                self.write_back()?;
                let taken = self.a.create_label();
                match i.cc & 15 {
                    0 => self.a.jo(taken)?,
                    1 => self.a.jno(taken)?,
                    2 => self.a.jb(taken)?,
                    3 => self.a.jae(taken)?,
                    4 => self.a.je(taken)?,
                    5 => self.a.jne(taken)?,
                    6 => self.a.jbe(taken)?,
                    7 => self.a.ja(taken)?,
                    8 => self.a.js(taken)?,
                    9 => self.a.jns(taken)?,
                    10 => self.a.jp(taken)?,
                    11 => self.a.jnp(taken)?,
                    12 => self.a.jl(taken)?,
                    13 => self.a.jge(taken)?,
                    14 => self.a.jle(taken)?,
                    _ => self.a.jg(taken)?,
                }
                self.leave_to(i.next())?;
                let mut taken = taken;
                self.a.set_label(&mut taken)?;
                self.leave_to(i.imm)
            }
            _ => unreachable!("no template for {:?}", i.op),
        }
    }

    /// mov and the two-operand ALU ops (also the compare of a fused branch).
    fn alu(&mut self, k: usize, i: &Inst) -> R {
        let op = i.op;
        let size = i.size;
        let writes = !matches!(op, Op::Cmp | Op::Test);
        if i.dst != Loc::Reg {
            // Memory destination.
            let class = match (op, writes) {
                (Op::Mov, _) => Class::Write,
                (_, true) => Class::Modify,
                _ => Class::Read,
            };
            let m = self.access(k, i, size, class)?;
            let src = match i.src {
                Loc::Reg => match self.greg(i.sreg, size) {
                    O::R(r) => O::R(r),
                    _ => {
                        self.get(RDX, i.sreg)?;
                        O::R(hreg(RDX, size))
                    }
                },
                _ => O::I(imm_for(size, i.imm)),
            };
            return self.op2(op, size, O::M(m), src);
        }
        let d = i.dreg;
        let cached = self.home[usize::from(d & 15)];
        // The source: a register (cached or in place), immediate, or memory.
        let src = match i.src {
            Loc::Reg => self.greg(i.sreg, size),
            Loc::Imm => O::I(imm_for(size, i.imm)),
            _ => O::M(self.access(k, i, size, Class::Read)?),
        };
        let big_mov = op == Op::Mov && size == 8 && i.src == Loc::Imm && !fits_i32(i.imm);
        match cached {
            Some(h) => {
                if big_mov {
                    self.emit(Instruction::with2(Code::Mov_r64_imm64, hreg(h, 8), i.imm))?;
                } else {
                    self.op2(op, size, O::R(hreg(h, size)), src)?;
                }
                if writes {
                    self.dirty |= 1 << (d & 15);
                }
                Ok(())
            }
            None => {
                // In the `Cpu`: through rcx, so that a 32-bit result zero-extends
                // and 8/16-bit ones merge as on hardware.
                if op != Op::Mov || size < 4 {
                    self.get(RCX, d)?;
                }
                if big_mov {
                    self.a.mov(rcx, i.imm)?;
                } else {
                    let src = match src {
                        O::M(m) if m.base == Register::R15 => {
                            // Both in the `Cpu`: the source through rdx.
                            self.get(RDX, i.sreg)?;
                            O::R(hreg(RDX, size))
                        }
                        s => s,
                    };
                    self.op2(op, size, O::R(hreg(RCX, size)), src)?;
                }
                if writes {
                    self.set(d, RCX)?;
                }
                Ok(())
            }
        }
    }

    fn unary(&mut self, k: usize, i: &Inst) -> R {
        let code = codes::unary(i.op, i.size);
        if i.dst == Loc::Reg {
            match self.home[usize::from(i.dreg & 15)] {
                Some(h) => {
                    self.dirty |= 1 << (i.dreg & 15);
                    self.emit(Instruction::with1(code, hreg(h, i.size)))
                }
                None => {
                    self.get(RCX, i.dreg)?;
                    self.emit(Instruction::with1(code, hreg(RCX, i.size)))?;
                    self.set(i.dreg, RCX)
                }
            }
        } else {
            let m = self.access(k, i, i.size, Class::Modify)?;
            self.emit(Instruction::with1(code, m))
        }
    }

    /// Shift or rotate by an immediate (its flags die before any exit, see
    /// `flags::flags_die`).
    fn shift(&mut self, k: usize, i: &Inst) -> R {
        let code = codes::shift(i.op, i.size);
        let count = super::flags::shift_count(i);
        if i.dst == Loc::Reg {
            match self.home[usize::from(i.dreg & 15)] {
                Some(h) => {
                    self.dirty |= 1 << (i.dreg & 15);
                    self.emit(Instruction::with2(code, hreg(h, i.size), count))
                }
                None => {
                    self.get(RCX, i.dreg)?;
                    self.emit(Instruction::with2(code, hreg(RCX, i.size), count))?;
                    self.set(i.dreg, RCX)
                }
            }
        } else {
            let m = self.access(k, i, i.size, Class::Modify)?;
            self.emit(Instruction::with2(code, m, count))
        }
    }

    /// `imul r, r/m` and `imul r, r/m, imm` (32/64-bit; flags die before any
    /// exit).
    fn imul(&mut self, k: usize, i: &Inst) -> R {
        let src = self.rm_source(k, i, i.size)?;
        let src = match src {
            O::M(m) if m.base == Register::R15 => {
                self.get(RDX, i.sreg)?;
                O::R(hreg(RDX, i.size))
            }
            s => s,
        };
        let cached = self.home[usize::from(i.dreg & 15)];
        let to = match cached {
            Some(h) => h,
            None => {
                if !i.has_imm {
                    self.get(RCX, i.dreg)?;
                }
                RCX
            }
        };
        let dst = hreg(to, i.size);
        let ins = match (i.has_imm, src, i.size) {
            (false, O::R(r), 4) => Instruction::with2(Code::Imul_r32_rm32, dst, r),
            (false, O::R(r), _) => Instruction::with2(Code::Imul_r64_rm64, dst, r),
            (false, O::M(m), 4) => Instruction::with2(Code::Imul_r32_rm32, dst, m),
            (false, O::M(m), _) => Instruction::with2(Code::Imul_r64_rm64, dst, m),
            (true, O::R(r), 4) => {
                Instruction::with3(Code::Imul_r32_rm32_imm32, dst, r, i.imm as i32)
            }
            (true, O::R(r), _) => {
                Instruction::with3(Code::Imul_r64_rm64_imm32, dst, r, i.imm as i32)
            }
            (true, O::M(m), 4) => {
                Instruction::with3(Code::Imul_r32_rm32_imm32, dst, m, i.imm as i32)
            }
            (true, O::M(m), _) => {
                Instruction::with3(Code::Imul_r64_rm64_imm32, dst, m, i.imm as i32)
            }
            _ => unreachable!(),
        };
        self.emit(ins)?;
        if to == RCX {
            self.set(i.dreg, RCX)
        } else {
            self.dirty |= 1 << (i.dreg & 15);
            Ok(())
        }
    }

    /// The source of movzx/movsx/cmov: a register or guest memory.
    fn rm_source(&mut self, k: usize, i: &Inst, size: u8) -> Result<O, IcedError> {
        if i.src == Loc::Reg {
            Ok(self.greg(i.sreg, size))
        } else {
            Ok(O::M(self.access(k, i, size, Class::Read)?))
        }
    }

    /// movzx / movsx / movsxd into a 32- or 64-bit register.
    fn extend(&mut self, k: usize, i: &Inst) -> R {
        let src = self.rm_source(k, i, i.ssize)?;
        let code = match (i.op, i.size, i.ssize) {
            (Op::Movzx, _, 1) => Code::Movzx_r32_rm8,
            (Op::Movzx, _, _) => Code::Movzx_r32_rm16,
            (_, 4, 1) => Code::Movsx_r32_rm8,
            (_, 4, _) => Code::Movsx_r32_rm16,
            (_, _, 1) => Code::Movsx_r64_rm8,
            (_, _, 2) => Code::Movsx_r64_rm16,
            _ => Code::Movsxd_r64_rm32,
        };
        let wide = matches!(
            code,
            Code::Movsx_r64_rm8 | Code::Movsx_r64_rm16 | Code::Movsxd_r64_rm32
        );
        let to = self.home[usize::from(i.dreg & 15)].unwrap_or(RCX);
        let dst = hreg(to, if wide { 8 } else { 4 });
        match src {
            O::R(r) => self.emit(Instruction::with2(code, dst, r))?,
            O::M(m) => self.emit(Instruction::with2(code, dst, m))?,
            O::I(_) => unreachable!(),
        }
        if to == RCX {
            self.set(i.dreg, RCX)
        } else {
            self.dirty |= 1 << (i.dreg & 15);
            Ok(())
        }
    }

    fn cmov(&mut self, k: usize, i: &Inst) -> R {
        let src = self.rm_source(k, i, i.size)?;
        let code = codes::cmov(i.cc, i.size);
        let cached = self.home[usize::from(i.dreg & 15)];
        let to = match cached {
            Some(h) => h,
            None => {
                self.get(RCX, i.dreg)?;
                RCX
            }
        };
        let src = match src {
            O::M(m) if m.base == Register::R15 => {
                self.get(RDX, i.sreg)?;
                O::R(hreg(RDX, i.size))
            }
            s => s,
        };
        match src {
            O::R(r) => self.emit(Instruction::with2(code, hreg(to, i.size), r))?,
            O::M(m) => self.emit(Instruction::with2(code, hreg(to, i.size), m))?,
            O::I(_) => unreachable!(),
        }
        if to == RCX {
            self.set(i.dreg, RCX)
        } else {
            self.dirty |= 1 << (i.dreg & 15);
            Ok(())
        }
    }

    fn setcc(&mut self, k: usize, i: &Inst) -> R {
        let code = codes::setcc(i.cc);
        if i.dst == Loc::Reg {
            match self.home[usize::from(i.dreg & 15)] {
                Some(h) => {
                    self.dirty |= 1 << (i.dreg & 15);
                    self.emit(Instruction::with1(code, hreg(h, 1)))
                }
                None => {
                    self.get(RCX, i.dreg)?;
                    self.emit(Instruction::with1(code, Register::CL))?;
                    self.set(i.dreg, RCX)
                }
            }
        } else {
            let m = self.access(k, i, 1, Class::Write)?;
            self.emit(Instruction::with1(code, m))
        }
    }

    /// Pushes rcx (8 bytes).
    fn push_rcx(&mut self, k: usize, i: &Inst) -> R {
        self.get(7, 4)?;
        self.a.lea(rdi, qword_ptr(rdi - 8))?;
        self.a.mov(rsi, rdi)?;
        self.check(k, i, 8, Class::Write)?;
        self.a.mov(qword_ptr(r14 + rsi), rcx)?;
        self.set(4, 7)
    }

    /// Pops 8 bytes into rcx, then releases `extra` more bytes of stack.
    fn pop_rcx(&mut self, k: usize, i: &Inst, extra: i32) -> R {
        self.get(7, 4)?;
        self.a.mov(rsi, rdi)?;
        self.check(k, i, 8, Class::Read)?;
        self.a.mov(rcx, qword_ptr(r14 + rsi))?;
        self.a.lea(rdi, qword_ptr(rdi + (8 + extra)))?;
        self.set(4, 7)
    }

    /// Continues at the fixed guest address `target` (registers written back):
    /// through a link slot that starts out pointing at an exit and later at the
    /// target's compiled code.
    fn leave_to(&mut self, target: u64) -> R {
        if *self.env.next_slot >= self.env.slot_limit {
            // No slot left: always exit (the loop finds the target).
            let label = self.a.create_label();
            self.stubs.push(Stub::Leave {
                label,
                target,
                slot: u32::MAX,
            });
            return self.a.jmp(label);
        }
        let slot = *self.env.next_slot;
        *self.env.next_slot += 1;
        let label = self.a.create_label();
        self.stubs.push(Stub::Leave {
            label,
            target,
            slot,
        });
        self.a.mov(rax, self.env.slot_base + 8 * u64::from(slot))?;
        self.a.jmp(qword_ptr(rax))
    }

    /// Continues at the guest address in rcx: through the table of compiled
    /// blocks, else out to the loop. The table's empty entries hold an address no
    /// block can have and the shared exit, so a match on one exits too.
    fn leave_indirect(&mut self) -> R {
        self.write_back()?;
        let miss = self.a.create_label();
        let a = &mut self.a;
        a.seto(al)?;
        a.lahf()?;
        a.mov(rdx, rcx)?;
        a.shr(rdx, 12)?;
        a.xor(rdx, rcx)?;
        a.and(edx, self.env.table_mask as i32)?;
        a.shl(edx, 4)?;
        a.mov(rdi, self.env.table)?;
        a.cmp(qword_ptr(rdi + rdx), rcx)?;
        a.jne(miss)?;
        a.mov(rdx, qword_ptr(rdi + rdx + 8))?;
        a.add(al, 0x7f)?;
        a.sahf()?;
        a.jmp(rdx)?;
        let mut miss = miss;
        a.set_label(&mut miss)?;
        a.add(al, 0x7f)?;
        a.sahf()?;
        if self.af_dirty {
            // Not reached: flags are live at a block's end, so canonical.
            a.lahf()?;
            a.and(ah, 0xef)?;
            a.sahf()?;
        }
        a.mov(rdx, self.env.miss)?;
        a.jmp(rdx)
    }

    /// Saves the flags (AF cleared when `mask_af`) into the `Cpu` and returns
    /// `code` to the trampoline.
    fn exit_with(&mut self, mask_af: bool, code: u64) -> R {
        let off = self.env.off;
        let a = &mut self.a;
        a.pushfq()?;
        a.pop(rax)?;
        if mask_af {
            a.and(eax, !0x10i32)?;
        }
        a.mov(qword_ptr(r15 + off.flags), rax)?;
        a.mov(rax, code)?;
        a.ret()
    }

    fn emit_stubs(&mut self) -> R {
        // Each exit loads what is particular to it and jumps to a tail shared by
        // the block: code size (and so compile time) per exit stays small.
        let mut resume_tail = self.a.create_label();
        let mut resume_tail_restore = self.a.create_label();
        let mut leave_tail = self.a.create_label();
        let (mut resumes, mut restores, mut leaves) = (false, false, false);
        for stub in std::mem::take(&mut self.stubs) {
            match stub {
                Stub::Resume {
                    mut label,
                    index,
                    restore,
                    mask_af,
                    ..
                } => {
                    self.a.set_label(&mut label)?;
                    self.a.mov(ecx, index)?;
                    self.a.mov(edx, if mask_af { !0x10u32 } else { u32::MAX })?;
                    if restore {
                        restores = true;
                        self.a.jmp(resume_tail_restore)?;
                    } else {
                        resumes = true;
                        self.a.jmp(resume_tail)?;
                    }
                }
                Stub::Leave {
                    mut label,
                    target,
                    slot,
                    ..
                } => {
                    self.a.set_label(&mut label)?;
                    if slot != u32::MAX {
                        // The stub starts with the next instruction.
                        let at = self.a.instructions().len();
                        self.env.slot_stubs.push((slot, at));
                    }
                    let payload = if slot == u32::MAX { 0 } else { slot + 1 };
                    self.a.mov(rcx, target)?;
                    self.a.mov(edx, payload)?;
                    leaves = true;
                    self.a.jmp(leave_tail)?;
                }
                Stub::OutOfGas {
                    mut label,
                    addr,
                    restore,
                } => {
                    self.a.set_label(&mut label)?;
                    if restore {
                        self.a.add(al, 0x7f)?;
                        self.a.sahf()?;
                    }
                    let off = self.env.off;
                    self.a.mov(rcx, addr)?;
                    self.a.mov(qword_ptr(r15 + off.rip), rcx)?;
                    self.exit_with(false, exit::OUT_OF_GAS)?;
                }
            }
        }
        let off = self.env.off;
        if restores {
            // Guest flags saved in AX by a memory check.
            self.a.set_label(&mut resume_tail_restore)?;
            self.a.add(al, 0x7f)?;
            self.a.sahf()?;
            if resumes {
                self.a.jmp(resume_tail)?;
            }
        }
        if resumes || restores {
            // ecx: cache index, edx: AND mask for the flags. Every cached register
            // goes back: those not written still hold what was loaded.
            self.a.set_label(&mut resume_tail)?;
            self.store_cached(u16::MAX)?;
            self.a.pushfq()?;
            self.a.pop(rax)?;
            self.a.and(rax, rdx)?;
            self.a.mov(qword_ptr(r15 + off.flags), rax)?;
            self.a.shl(rcx, 8)?;
            self.a.lea(rax, qword_ptr(rcx + exit::RESUME as i32))?;
            self.a.ret()?;
        }
        if leaves {
            // rcx: target, edx: link slot + 1 (registers already written back).
            self.a.set_label(&mut leave_tail)?;
            self.a.mov(qword_ptr(r15 + off.rip), rcx)?;
            self.a.pushfq()?;
            self.a.pop(rax)?;
            self.a.mov(qword_ptr(r15 + off.flags), rax)?;
            self.a.shl(rdx, 8)?;
            self.a.lea(rax, qword_ptr(rdx + exit::LEAVE as i32))?;
            self.a.ret()?;
        }
        Ok(())
    }
}
