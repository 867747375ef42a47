//! Instruction semantics, one module per family, and the dispatcher that the
//! interpreter calls for each [`Inst`].

use crate::cpu::Cpu;
use crate::ir::{Inst, Loc, NO_REG, Op, seg};
use crate::mem::Memory;
use crate::trap::Trap;

mod arith;
mod bits;
mod control;
mod fast;
mod fused;
pub(crate) mod hot;
mod mov;
mod muldiv;
mod shift;
mod sse;
mod stack;
mod string;
mod system;
// SSE .. SSE4.2 beyond the integer-code basics in sse.rs.
pub(crate) mod softfloat;
mod sse_float;
mod sse_int;
mod sse_move;
mod sse_string;
pub mod x87;
mod xmm;

pub use fused::fuse;
pub(crate) use fused::fused_compare;
pub use system::{CPUID_VENDOR, cpuid};

/// Why execution left the interpreter loop (besides finishing a block).
#[derive(Debug)]
pub enum Exit {
    /// A trap at the current instruction.
    Trap(Trap),
    /// `int n`: the host must serve service `n`; RIP is already past the instruction.
    Interrupt(u64),
    /// `syscall`: RIP is already past the instruction.
    Syscall,
}

impl From<Trap> for Box<Exit> {
    // Traps are rare; keep the allocation off the handlers' fast paths.
    #[cold]
    #[inline(never)]
    fn from(t: Trap) -> Self {
        Box::new(Exit::Trap(t))
    }
}

/// Result of executing one instruction.
///
/// The error is boxed so that the whole result is one pointer, returned in one
/// register: with a two-register result the optimiser does not turn a threaded
/// handler's call of the next handler into a jump (its `Ok` and `Err` returns
/// merge into an aggregate it cannot duplicate into the call's tail), and every
/// instruction would then grow the host stack. Exits are rare (traps, host calls),
/// so the allocation costs nothing measurable.
pub type ExecResult = Result<(), Box<Exit>>;

/// Executes one decoded instruction alone; chosen per instruction at translation.
/// RIP has already been set to the fall-through address if this is the last
/// instruction of its block; control transfers overwrite it.
pub type Handler = fn(&mut Cpu, &mut Memory, &Inst) -> ExecResult;

/// Executes the instruction at `at`, then passes control straight to the next
/// one's threaded handler (see [`crate::interp`]): the rest of its block, and after
/// a block's last instruction the next block when it is linked. `code` is the start
/// of the code cache's instructions (links are indices from there).
///
/// # Safety
///
/// `code` must point to the instructions of a code cache (`interp::CodeCache`:
/// every block ends with an instruction whose handler calls `interp::follow`, and
/// links name entries inside it) that stays unchanged during the call, and `at`
/// to one of them, derived from `code`. Handlers step from one instruction to the
/// next without bounds checks or index arithmetic: measured at about a fifth of
/// the host instructions of a call-heavy guest (callgrind, fib: 49.9 M → 40.1 M
/// for unchecked indices, then pointers).
pub type Threaded = unsafe fn(&mut Cpu, &mut Memory, *const Inst, *const Inst) -> ExecResult;

/// The two ways of running one instruction: alone (tracing) and threaded.
#[derive(Clone, Copy)]
pub struct Handlers {
    /// Runs the instruction alone.
    pub step: Handler,
    /// Runs it and continues with what follows.
    pub threaded: Threaded,
}

/// [`Handlers`] for an instruction that does not end its block and whose
/// semantics are the [`Handler`] `$f`. A macro rather than a generic function so
/// that `$f` is inlined into the threaded version: no call per instruction.
macro_rules! body_handlers {
    ($f:expr) => {{
        #[allow(unsafe_code)]
        let h = $crate::isa::Handlers {
            step: $f,
            // SAFETY: `Threaded`'s contract: `at` is a cached instruction; one that
            // does not end its block is followed by another of the block.
            threaded: |cpu, mem, code, at| unsafe {
                let i = &*at;
                match ($f)(cpu, mem, i) {
                    Ok(()) => $crate::interp::step_on(cpu, mem, code, at.add(1)),
                    Err(e) => Err($crate::interp::fault(cpu, i, e)),
                }
            },
        };
        h
    }};
}

/// [`Handlers`] for an instruction that ends its block (see [`body_handlers`]).
macro_rules! last_handlers {
    ($f:expr) => {{
        #[allow(unsafe_code)]
        let h = $crate::isa::Handlers {
            step: $f,
            // SAFETY: `Threaded`'s contract, passed on to `follow`.
            threaded: |cpu, mem, code, at| unsafe {
                let i = &*at;
                cpu.rip = i.next();
                match ($f)(cpu, mem, i) {
                    Ok(()) => $crate::interp::follow(cpu, mem, code, at),
                    Err(e) => Err($crate::interp::fault(cpu, i, e)),
                }
            },
        };
        h
    }};
}
pub(crate) use {body_handlers, last_handlers};

/// The handlers for `i`: specialised ones for hot shapes (`hot`, then `fast`),
/// else the generic [`exec`].
pub fn handlers_for(i: &Inst) -> Handlers {
    if let Some(h) = hot::select(i).or_else(|| fast::select(i)) {
        return h;
    }
    if i.ends_block() {
        last_handlers!(exec)
    } else {
        Handlers {
            step: exec,
            threaded: exec_threaded,
        }
    }
}

/// The generic threaded handler of an instruction that does not end its block.
///
/// # Safety
///
/// As for [`Threaded`].
#[allow(unsafe_code)]
pub unsafe fn exec_threaded(
    cpu: &mut Cpu,
    mem: &mut Memory,
    code: *const Inst,
    at: *const Inst,
) -> ExecResult {
    // SAFETY: as in `body_handlers`.
    unsafe {
        let i = &*at;
        match exec(cpu, mem, i) {
            Ok(()) => crate::interp::step_on(cpu, mem, code, at.add(1)),
            Err(e) => Err(crate::interp::fault(cpu, i, e)),
        }
    }
}

/// Effective address of the memory operand of `i`.
#[inline(always)]
pub(crate) fn ea(cpu: &Cpu, i: &Inst) -> u64 {
    let mut a = i.disp as u64;
    if i.base != NO_REG {
        a = a.wrapping_add(cpu.gpr[i.base as usize & 15]);
    }
    if i.index != NO_REG {
        a = a.wrapping_add(cpu.gpr[i.index as usize & 15] << i.scale);
    }
    if i.addr32 {
        a &= 0xffff_ffff;
    }
    match i.seg {
        seg::NONE => a,
        seg::FS => a.wrapping_add(cpu.fs_base),
        _ => a.wrapping_add(cpu.gs_base),
    }
}

/// Reads an operand of `size` bytes, zero-extended.
#[inline(always)]
pub(crate) fn read(
    cpu: &Cpu,
    mem: &Memory,
    i: &Inst,
    loc: Loc,
    reg: u8,
    size: u8,
) -> Result<u64, Trap> {
    match loc {
        Loc::Reg => Ok(cpu.read_reg(reg, size)),
        Loc::Mem => mem.read_sized(ea(cpu, i), size),
        Loc::Imm => Ok(i.imm & crate::cpu::mask(size)),
        Loc::Xmm => Ok(cpu.xmm[reg as usize & 15] as u64 & crate::cpu::mask(size)),
        Loc::None => Ok(0),
    }
}

/// Writes an operand of `size` bytes.
#[inline(always)]
pub(crate) fn write(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
    loc: Loc,
    reg: u8,
    size: u8,
    v: u64,
) -> Result<(), Trap> {
    match loc {
        Loc::Reg => {
            cpu.write_reg(reg, size, v);
            Ok(())
        }
        Loc::Mem => mem.write_sized(ea(cpu, i), size, v),
        _ => Ok(()),
    }
}

/// Reads the destination operand at the instruction's size.
#[inline(always)]
pub(crate) fn read_dst(cpu: &Cpu, mem: &Memory, i: &Inst) -> Result<u64, Trap> {
    read(cpu, mem, i, i.dst, i.dreg, i.size)
}

/// Reads the source operand at the instruction's size.
#[inline(always)]
pub(crate) fn read_src(cpu: &Cpu, mem: &Memory, i: &Inst) -> Result<u64, Trap> {
    read(cpu, mem, i, i.src, i.sreg, i.size)
}

/// Writes the destination operand at the instruction's size.
#[inline(always)]
pub(crate) fn write_dst(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, v: u64) -> Result<(), Trap> {
    write(cpu, mem, i, i.dst, i.dreg, i.size, v)
}

/// Executes one instruction (the generic [`Handler`]).
#[inline(always)]
pub fn exec(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    match i.op {
        Op::Nop => Ok(()),
        Op::Mov => mov::mov(cpu, mem, i),
        Op::Movzx => mov::movzx(cpu, mem, i),
        Op::Movsx => mov::movsx(cpu, mem, i),
        Op::Lea => mov::lea(cpu, i),
        Op::Cmov => mov::cmov(cpu, mem, i),
        Op::Xchg => mov::xchg(cpu, mem, i),
        Op::Setcc => mov::setcc(cpu, mem, i),
        Op::Xadd => mov::xadd(cpu, mem, i),
        Op::Cmpxchg => mov::cmpxchg(cpu, mem, i),
        Op::CmpxchgWide => mov::cmpxchg_wide(cpu, mem, i),
        Op::Bswap => bits::bswap(cpu, i),
        Op::Push => stack::push(cpu, mem, i),
        Op::Pop => stack::pop(cpu, mem, i),
        Op::Enter => stack::enter(cpu, mem, i),
        Op::Leave => stack::leave(cpu, mem),
        Op::Pushf => stack::pushf(cpu, mem, i),
        Op::Popf => stack::popf(cpu, mem, i),
        Op::Add | Op::Adc | Op::Sub | Op::Sbb | Op::Cmp => arith::addsub(cpu, mem, i),
        Op::And | Op::Or | Op::Xor | Op::Test => arith::logic(cpu, mem, i),
        Op::Inc | Op::Dec => arith::incdec(cpu, mem, i),
        Op::Neg => arith::neg(cpu, mem, i),
        Op::Not => arith::not(cpu, mem, i),
        Op::Mul | Op::Imul1 => muldiv::mul1(cpu, mem, i),
        Op::Imul2 => muldiv::imul2(cpu, mem, i),
        Op::Div | Op::Idiv => muldiv::div(cpu, mem, i),
        Op::SextA => muldiv::sext_a(cpu, i),
        Op::SextD => muldiv::sext_d(cpu, i),
        Op::Shl | Op::Shr | Op::Sar => shift::shift(cpu, mem, i),
        Op::Rol | Op::Ror => shift::rotate(cpu, mem, i),
        Op::Rcl | Op::Rcr => shift::rotate_carry(cpu, mem, i),
        Op::Shld | Op::Shrd => shift::double(cpu, mem, i),
        Op::Bt | Op::Bts | Op::Btr | Op::Btc => bits::bt(cpu, mem, i),
        Op::Bsf | Op::Bsr => bits::bsf_bsr(cpu, mem, i),
        Op::Tzcnt | Op::Lzcnt | Op::Popcnt => bits::count(cpu, mem, i),
        Op::Jcc => {
            if cpu.cond(i.cc) {
                cpu.rip = i.imm;
            }
            Ok(())
        }
        Op::Jmp => {
            cpu.rip = i.imm;
            Ok(())
        }
        Op::JmpInd => control::jmp_ind(cpu, mem, i),
        Op::Call => control::call(cpu, mem, i),
        Op::CallInd => control::call_ind(cpu, mem, i),
        Op::Ret => control::ret(cpu, mem, i),
        Op::Jrcxz => control::jrcxz(cpu, i),
        Op::Loop => control::looop(cpu, i),
        Op::Movs | Op::Stos | Op::Lods | Op::Cmps | Op::Scas => string::string(cpu, mem, i),
        Op::Cpuid => system::cpuid_op(cpu),
        Op::Rdtsc => system::rdtsc(cpu),
        Op::Lahf | Op::Sahf | Op::Clc | Op::Stc | Op::Cmc | Op::Cld | Op::Std => {
            system::flag_op(cpu, i)
        }
        Op::Fld
        | Op::FldConst
        | Op::Fst
        | Op::Fist
        | Op::Farith
        | Op::Fcom
        | Op::Fxch
        | Op::Fcmov
        | Op::Fmisc
        | Op::Fmath
        | Op::Ftrans
        | Op::Fctl
        | Op::Fenv => x87::exec(cpu, mem, i),
        Op::Movx
        | Op::MovdQ
        | Op::Pxor
        | Op::Por
        | Op::Pand
        | Op::Punpcklqdq
        | Op::MovHigh
        | Op::Padd
        | Op::Psub
        | Op::Pcmpeq
        | Op::Pcmpgt
        | Op::Pandn
        | Op::Psll
        | Op::Psrl
        | Op::Psra
        | Op::PshiftBytes
        | Op::Pshufd
        | Op::Pshufw
        | Op::Punpckl
        | Op::Punpckh
        | Op::Pinsrw
        | Op::Pextrw
        | Op::Pmovmskb => sse::exec(cpu, mem, i),
        // ---- SSE .. SSE4.2 (sse_float.rs, sse_move.rs, sse_int.rs, sse_string.rs).
        Op::SseFloatArith | Op::SseFloatDiv | Op::SseFloatApprox => sse_float::arith(cpu, mem, i),
        Op::SseFloatCmp => sse_float::cmp(cpu, mem, i),
        Op::SseComi => sse_float::comi(cpu, mem, i),
        Op::SseCvt => sse_float::cvt(cpu, mem, i),
        Op::SseRound => sse_float::round(cpu, mem, i),
        Op::SseDot => sse_float::dot(cpu, mem, i),
        Op::Ldmxcsr => sse_float::ldmxcsr(cpu, mem, i),
        Op::Stmxcsr => sse_float::stmxcsr(cpu, mem, i),
        Op::SseMovScalar => sse_move::mov_scalar(cpu, mem, i),
        Op::SseMovLow => sse_move::mov_low(cpu, mem, i),
        Op::SseMovMask => sse_move::mov_mask(cpu, mem, i),
        Op::SseDup => sse_move::dup(cpu, mem, i),
        Op::SseShuffle => sse_move::shuffle(cpu, mem, i),
        Op::SseBlendv => sse_move::blendv(cpu, mem, i),
        Op::SsePinsr => sse_move::pinsr(cpu, mem, i),
        Op::SsePextr => sse_move::pextr(cpu, mem, i),
        Op::SsePmovx => sse_move::pmovx(cpu, mem, i),
        Op::SseMaskMov => sse_move::maskmov(cpu, mem, i),
        Op::PackedIntBinary => sse_int::binary(cpu, mem, i),
        Op::PackedIntUnary => sse_int::unary(cpu, mem, i),
        Op::Ptest => sse_int::ptest(cpu, mem, i),
        Op::Crc32 => sse_int::crc32(cpu, mem, i),
        Op::PcmpStr => sse_string::pcmpstr_op(cpu, mem, i),
        // ---- end SSE.
        Op::Int => Err(Box::new(Exit::Interrupt(i.imm & 0xff))),
        Op::Syscall => Err(Box::new(Exit::Syscall)),
        Op::Ud2 => Err(Trap::InvalidOpcode.into()),
        Op::Hlt => Err(Trap::Halt.into()),
        Op::Int3 => Err(Trap::Breakpoint.into()),
        Op::Unsupported => {
            let bytes = (0..15u64)
                .map_while(|k| mem.read_u8(i.addr.wrapping_add(k)).ok())
                .take(i.len.max(1) as usize)
                .collect();
            Err(Trap::UnsupportedInstruction { bytes }.into())
        }
    }
}
