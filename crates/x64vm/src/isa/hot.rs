//! Threaded handlers for the hottest instruction shapes, with a fast path that
//! never calls out.
//!
//! A handler whose fast path may call a function that returns (a memory access's
//! slow path, a trap constructor) keeps the dispatch state (CPU, memory, code,
//! index) in callee-saved registers, and so saves and restores six registers on
//! every execution: in gcc's fib that was a third of all host instructions. The
//! handlers here instead check everything they need up front (memory through
//! `Memory::probe_*`), and when anything is out of the ordinary (an access that
//! crosses a page, faults, or hits a page that needs bookkeeping) they return
//! [`Miss`] *before changing any guest state*; the instruction then runs in full
//! through the generic path ([`super::exec`]), as a tail call. The generic path is
//! also what the tracing loop runs, so the determinism tests that compare traced
//! and untraced runs compare these handlers with it.

use super::fast::{is_base_disp, le_bytes, le_u64, trunc};
use super::{ExecResult, Handlers};
use crate::cpu::{Cpu, FlagOp, reg, sext};
use crate::interp::follow;
use crate::ir::{Inst, Loc, NO_REG, Op, seg};
use crate::mem::Memory;

/// The fast path does not apply: run the instruction through the generic path.
/// Only ever returned before the instruction changed anything.
pub(crate) struct Miss;

/// Result of a fast path.
pub(crate) type Fast = Result<(), Miss>;

/// [`Handlers`] for a fast path `$f` of an instruction that does not end its
/// block: tracing runs the generic [`super::exec`].
macro_rules! hot_body {
    ($f:expr) => {{
        #[allow(unsafe_code)]
        let h = $crate::isa::Handlers {
            step: $crate::isa::exec,
            // SAFETY: as in `isa::body_handlers`.
            threaded: |cpu, mem, code, at| unsafe {
                let i = &*at;
                match ($f)(cpu, mem, i) {
                    Ok(()) => $crate::interp::step_on(cpu, mem, code, at.add(1)),
                    Err($crate::isa::hot::Miss) => $crate::isa::exec_threaded(cpu, mem, code, at),
                }
            },
        };
        h
    }};
}

/// As [`hot_body`], for an instruction that ends its block.
macro_rules! hot_last {
    ($f:expr) => {{
        #[allow(unsafe_code)]
        let h = $crate::isa::Handlers {
            step: $crate::isa::exec,
            // SAFETY: as in `isa::last_handlers`.
            threaded: |cpu, mem, code, at| unsafe {
                let i = &*at;
                cpu.rip = i.next();
                match ($f)(cpu, mem, i) {
                    Ok(()) => $crate::interp::follow(cpu, mem, code, at),
                    Err($crate::isa::hot::Miss) => {
                        $crate::isa::hot::exec_last_threaded(cpu, mem, code, at)
                    }
                }
            },
        };
        h
    }};
}
pub(crate) use hot_body;

/// The generic threaded handler of an instruction that ends its block: the slow
/// path of [`hot_last`].
///
/// # Safety
///
/// As for [`super::Threaded`].
#[inline(never)]
#[allow(unsafe_code)]
pub(crate) unsafe fn exec_last_threaded(
    cpu: &mut Cpu,
    mem: &mut Memory,
    code: *const Inst,
    at: *const Inst,
) -> ExecResult {
    // SAFETY: as in `isa::last_handlers`.
    unsafe {
        let i = &*at;
        cpu.rip = i.next();
        match super::exec(cpu, mem, i) {
            Ok(()) => follow(cpu, mem, code, at),
            Err(e) => Err(crate::interp::fault(cpu, i, e)),
        }
    }
}

// ---- Operand values -------------------------------------------------------

/// A source operand whose place is fixed at translation.
pub(crate) trait Val {
    /// The value, zero-extended from `SIZE` (4 or 8) bytes, or [`Miss`].
    fn get<const SIZE: u8>(cpu: &Cpu, mem: &Memory, i: &Inst, src: bool) -> Result<u64, Miss>;
}

/// A general register: `sreg` as a source, `dreg` as a destination.
pub(crate) struct R;
/// The immediate.
pub(crate) struct I;
/// An immediate kept in `disp` (fused compare-and-branch: `imm` is the target).
pub(crate) struct ID;
/// Memory at `[base + disp]`.
pub(crate) struct M;
/// A small immediate kept in `sreg` as a signed byte (fused compare-and-branch of
/// memory with an immediate: `disp` addresses the memory, `imm` is the target).
pub(crate) struct I8;

impl Val for R {
    #[inline(always)]
    fn get<const SIZE: u8>(cpu: &Cpu, _: &Memory, i: &Inst, src: bool) -> Result<u64, Miss> {
        let r = if src { i.sreg } else { i.dreg };
        Ok(trunc::<SIZE>(cpu.gpr[r as usize & 15]))
    }
}

impl Val for I {
    #[inline(always)]
    fn get<const SIZE: u8>(_: &Cpu, _: &Memory, i: &Inst, _: bool) -> Result<u64, Miss> {
        Ok(trunc::<SIZE>(i.imm))
    }
}

impl Val for ID {
    #[inline(always)]
    fn get<const SIZE: u8>(_: &Cpu, _: &Memory, i: &Inst, _: bool) -> Result<u64, Miss> {
        Ok(trunc::<SIZE>(i.disp as u64))
    }
}

impl Val for I8 {
    #[inline(always)]
    fn get<const SIZE: u8>(_: &Cpu, _: &Memory, i: &Inst, _: bool) -> Result<u64, Miss> {
        Ok(trunc::<SIZE>(i.sreg as i8 as u64))
    }
}

impl Val for M {
    #[inline(always)]
    fn get<const SIZE: u8>(cpu: &Cpu, mem: &Memory, i: &Inst, _: bool) -> Result<u64, Miss> {
        let a = base_disp(cpu, i);
        match SIZE {
            8 => {
                let at = mem.probe_read::<8>(a).ok_or(Miss)?;
                Ok(u64::from_le_bytes(mem.load_probed(at)))
            }
            4 => {
                let at = mem.probe_read::<4>(a).ok_or(Miss)?;
                Ok(u64::from(u32::from_le_bytes(mem.load_probed(at))))
            }
            2 => {
                let at = mem.probe_read::<2>(a).ok_or(Miss)?;
                Ok(u64::from(u16::from_le_bytes(mem.load_probed(at))))
            }
            _ => {
                let at = mem.probe_read::<1>(a).ok_or(Miss)?;
                Ok(u64::from(mem.load_probed(at)[0]))
            }
        }
    }
}

#[inline(always)]
fn base_disp(cpu: &Cpu, i: &Inst) -> u64 {
    cpu.gpr[i.base as usize & 15].wrapping_add(i.disp as u64)
}

// ---- ALU ops and mov ------------------------------------------------------

pub(crate) const ADD: u8 = 0;
pub(crate) const OR: u8 = 1;
pub(crate) const ADC: u8 = 2;
pub(crate) const SBB: u8 = 3;
pub(crate) const AND: u8 = 4;
pub(crate) const SUB: u8 = 5;
pub(crate) const XOR: u8 = 6;
pub(crate) const CMP: u8 = 7;
pub(crate) const TEST: u8 = 8;
pub(crate) const MOV: u8 = 9;

/// `OP` on `a` (destination) and `b` (source), recording the flags as the
/// generic path does. Returns the result (for `cmp`/`test`: not stored).
#[inline(always)]
pub(crate) fn compute<const OP: u8, const SIZE: u8>(cpu: &mut Cpu, a: u64, b: u64) -> u64 {
    match OP {
        MOV => b,
        ADD => {
            let r = trunc::<SIZE>(a.wrapping_add(b));
            cpu.set_flags(FlagOp::Add, SIZE, a, b, r);
            r
        }
        SUB | CMP => {
            let r = trunc::<SIZE>(a.wrapping_sub(b));
            cpu.set_flags(FlagOp::Sub, SIZE, a, b, r);
            r
        }
        ADC => {
            let c = cpu.cf();
            let r = trunc::<SIZE>(a.wrapping_add(b).wrapping_add(c as u64));
            cpu.set_flags_carry(FlagOp::Adc, SIZE, a, b, r, c);
            r
        }
        SBB => {
            let c = cpu.cf();
            let r = trunc::<SIZE>(a.wrapping_sub(b).wrapping_sub(c as u64));
            cpu.set_flags_carry(FlagOp::Sbb, SIZE, a, b, r, c);
            r
        }
        _ => {
            let r = match OP {
                OR => a | b,
                XOR => a ^ b,
                _ => a & b,
            };
            cpu.set_flags(FlagOp::Logic, SIZE, 0, 0, r);
            r
        }
    }
}

/// `OP reg, src`.
#[inline(always)]
fn alu_reg<const OP: u8, const SIZE: u8, S: Val>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> Fast {
    let b = S::get::<SIZE>(cpu, mem, i, true)?;
    let a = if OP == MOV {
        0
    } else {
        trunc::<SIZE>(cpu.gpr[i.dreg as usize & 15])
    };
    let r = compute::<OP, SIZE>(cpu, a, b);
    if OP != CMP && OP != TEST {
        // 32-bit results zero the upper half.
        cpu.gpr[i.dreg as usize & 15] = trunc::<SIZE>(r);
    }
    Ok(())
}

/// `OP [base + disp], src` (src a register or an immediate: no memory), any size.
#[inline(always)]
pub(crate) fn alu_mem<const OP: u8, const SIZE: u8, S: Val>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> Fast {
    let b = S::get::<SIZE>(cpu, mem, i, true)?;
    let addr = base_disp(cpu, i);
    match SIZE {
        8 => alu_mem_at::<OP, 8, 8>(cpu, mem, addr, b),
        4 => alu_mem_at::<OP, 4, 4>(cpu, mem, addr, b),
        2 => alu_mem_at::<OP, 2, 2>(cpu, mem, addr, b),
        _ => alu_mem_at::<OP, 1, 1>(cpu, mem, addr, b),
    }
}

#[inline(always)]
fn alu_mem_at<const OP: u8, const SIZE: u8, const N: usize>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    addr: u64,
    b: u64,
) -> Fast {
    match OP {
        MOV => {
            let at = mem.probe_write::<N>(addr).ok_or(Miss)?;
            mem.store_probed(at, le_bytes(b));
        }
        CMP | TEST => {
            let at = mem.probe_read::<N>(addr).ok_or(Miss)?;
            let a = le_u64(mem.load_probed(at));
            compute::<OP, SIZE>(cpu, a, b);
        }
        _ => {
            let at = mem.probe_modify::<N>(addr).ok_or(Miss)?;
            let a = le_u64(mem.load_probed(at));
            let r = compute::<OP, SIZE>(cpu, a, b);
            mem.store_probed(at, le_bytes(r));
        }
    }
    Ok(())
}

fn alu_for<const OP: u8>(i: &Inst) -> Option<Handlers> {
    let regs_ok = (i.dst != Loc::Reg || i.dreg < 16) && (i.src != Loc::Reg || i.sreg < 16);
    let mem_ok = (i.dst != Loc::Mem && i.src != Loc::Mem) || is_base_disp(i);
    if !regs_ok || !mem_ok {
        return None;
    }
    Some(match (i.dst, i.src, i.size) {
        (Loc::Reg, Loc::Reg, 8) => hot_body!(alu_reg::<OP, 8, R>),
        (Loc::Reg, Loc::Reg, 4) => hot_body!(alu_reg::<OP, 4, R>),
        (Loc::Reg, Loc::Imm, 8) => hot_body!(alu_reg::<OP, 8, I>),
        (Loc::Reg, Loc::Imm, 4) => hot_body!(alu_reg::<OP, 4, I>),
        (Loc::Reg, Loc::Mem, 8) => hot_body!(alu_reg::<OP, 8, M>),
        (Loc::Reg, Loc::Mem, 4) => hot_body!(alu_reg::<OP, 4, M>),
        (Loc::Mem, Loc::Reg, 8) => hot_body!(alu_mem::<OP, 8, R>),
        (Loc::Mem, Loc::Reg, 4) => hot_body!(alu_mem::<OP, 4, R>),
        (Loc::Mem, Loc::Imm, 8) => hot_body!(alu_mem::<OP, 8, I>),
        (Loc::Mem, Loc::Imm, 4) => hot_body!(alu_mem::<OP, 4, I>),
        _ => return None,
    })
}

// ---- Stack, calls, lea ----------------------------------------------------

fn push_reg(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> Fast {
    // `push rsp` pushes the value before the decrement.
    let v = cpu.gpr[i.dreg as usize & 15];
    let sp = cpu.gpr[reg::RSP].wrapping_sub(8);
    let at = mem.probe_write::<8>(sp).ok_or(Miss)?;
    mem.store_probed(at, v.to_le_bytes());
    cpu.gpr[reg::RSP] = sp;
    Ok(())
}

fn pop_reg(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> Fast {
    let sp = cpu.gpr[reg::RSP];
    let at = mem.probe_read::<8>(sp).ok_or(Miss)?;
    let v = u64::from_le_bytes(mem.load_probed(at));
    // `pop rsp` loads the popped value into RSP: the increment comes first.
    cpu.gpr[reg::RSP] = sp.wrapping_add(8);
    cpu.gpr[i.dreg as usize & 15] = v;
    Ok(())
}

fn call(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> Fast {
    let sp = cpu.gpr[reg::RSP].wrapping_sub(8);
    let at = mem.probe_write::<8>(sp).ok_or(Miss)?;
    mem.store_probed(at, i.next().to_le_bytes());
    cpu.gpr[reg::RSP] = sp;
    cpu.rip = i.imm;
    Ok(())
}

fn ret(cpu: &mut Cpu, mem: &mut Memory, _: &Inst) -> Fast {
    let sp = cpu.gpr[reg::RSP];
    let at = mem.probe_read::<8>(sp).ok_or(Miss)?;
    cpu.rip = u64::from_le_bytes(mem.load_probed(at));
    cpu.gpr[reg::RSP] = sp.wrapping_add(8);
    Ok(())
}

/// `lea reg, [base + disp]`.
fn lea_base<const SIZE: u8>(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> Fast {
    cpu.gpr[i.dreg as usize & 15] = trunc::<SIZE>(base_disp(cpu, i));
    Ok(())
}

/// `lea reg, [base + index * scale + disp]`.
fn lea_index<const SIZE: u8>(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> Fast {
    let x = cpu.gpr[i.index as usize & 15] << i.scale;
    cpu.gpr[i.dreg as usize & 15] = trunc::<SIZE>(base_disp(cpu, i).wrapping_add(x));
    Ok(())
}

fn lea_for(i: &Inst) -> Option<Handlers> {
    // `lea` ignores segment bases (the translator clears them).
    if i.dst != Loc::Reg || i.dreg >= 16 || i.base == NO_REG || i.addr32 || i.seg != seg::NONE {
        return None;
    }
    Some(match (i.index == NO_REG, i.size) {
        (true, 8) => hot_body!(lea_base::<8>),
        (true, 4) => hot_body!(lea_base::<4>),
        (false, 8) => hot_body!(lea_index::<8>),
        (false, 4) => hot_body!(lea_index::<4>),
        _ => return None,
    })
}

// ---- Fused compare-and-branch (see `fused`) -------------------------------

/// `cmp`/`test` (`OP`) of `D` and `S`, then `jcc` with condition `CC`.
#[inline(always)]
pub(crate) fn cmp_jcc<const OP: u8, const SIZE: u8, const CC: u8, D: Val, S: Val>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> Fast {
    let b = S::get::<SIZE>(cpu, mem, i, true)?;
    let a = D::get::<SIZE>(cpu, mem, i, false)?;
    let sign_bit = |r: u64| (r >> (SIZE * 8 - 1)) & 1 != 0;
    let r = compute::<OP, SIZE>(cpu, a, b);
    let taken = if OP == CMP {
        let (sa, sb) = (sext(a, SIZE), sext(b, SIZE));
        match CC {
            2 => a < b,
            3 => a >= b,
            4 => a == b,
            5 => a != b,
            6 => a <= b,
            7 => a > b,
            8 => sign_bit(r),
            9 => !sign_bit(r),
            12 => sa < sb,
            13 => sa >= sb,
            14 => sa <= sb,
            15 => sa > sb,
            // Overflow and parity: from the flags just recorded.
            _ => cpu.cond(CC),
        }
    } else {
        // `test` clears CF and OF.
        match CC {
            0 | 2 => false,
            1 | 3 => true,
            4 | 6 => r == 0,
            5 | 7 => r != 0,
            8 | 12 => sign_bit(r),
            9 | 13 => !sign_bit(r),
            14 => r == 0 || sign_bit(r),
            15 => r != 0 && !sign_bit(r),
            // Parity.
            _ => cpu.cond(CC),
        }
    };
    if taken {
        cpu.rip = i.imm;
    }
    Ok(())
}

// ---- Selection ------------------------------------------------------------

/// The hot handlers for `i`, if its shape has them.
pub(super) fn select(i: &Inst) -> Option<Handlers> {
    match i.op {
        Op::Mov => alu_for::<MOV>(i),
        Op::Add => alu_for::<ADD>(i),
        Op::Or => alu_for::<OR>(i),
        Op::Adc => alu_for::<ADC>(i),
        Op::Sbb => alu_for::<SBB>(i),
        Op::And => alu_for::<AND>(i),
        Op::Sub => alu_for::<SUB>(i),
        Op::Xor => alu_for::<XOR>(i),
        Op::Cmp => alu_for::<CMP>(i),
        Op::Test => alu_for::<TEST>(i),
        Op::Lea => lea_for(i),
        Op::Call => Some(hot_last!(call)),
        Op::Ret if i.imm == 0 => Some(hot_last!(ret)),
        Op::Push if i.dst == Loc::Reg && i.size == 8 && i.dreg < 16 => Some(hot_body!(push_reg)),
        Op::Pop if i.dst == Loc::Reg && i.size == 8 && i.dreg < 16 => Some(hot_body!(pop_reg)),
        _ => None,
    }
}
