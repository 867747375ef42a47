//! Specialised handlers for the hottest instruction shapes.
//!
//! The generic path ([`super::exec`]) matches on the op, then on each operand's
//! location and size at run time. For the shapes compilers emit most (32/64-bit
//! ALU ops and moves between registers, immediates and memory, conditional
//! jumps, push/pop) the translator instead picks a handler here, monomorphised
//! over op, size and operand shape, so none of those decisions are made per
//! execution. Semantics are the same as the generic path; the differential
//! tests exercise both (a shape not listed here falls back to the generic one).

use super::stack::{pop_val, push_val};
use super::{ExecResult, Handlers, body_handlers, ea, last_handlers};
use crate::cpu::{Cpu, FlagOp, reg};
use crate::ir::{Inst, Loc, NO_REG, Op, seg};
use crate::mem::Memory;
use crate::trap::Trap;

/// An operand location known at compile time.
trait Place {
    fn get<const SIZE: u8>(cpu: &Cpu, mem: &Memory, i: &Inst, which: Which) -> Result<u64, Trap>;
    fn put<const SIZE: u8>(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, v: u64) -> Result<(), Trap>;
}

/// Which register field an operand uses.
#[derive(Clone, Copy)]
enum Which {
    Dst,
    Src,
}

struct Reg;
/// A memory operand of any form.
struct Mem;
/// A memory operand `[base + disp]` (no index, no segment base, 64-bit address):
/// the most common form by far (stack slots, struct fields).
struct MemB;
struct Imm;

#[inline(always)]
fn ea_base(cpu: &Cpu, i: &Inst) -> u64 {
    cpu.gpr[i.base as usize & 15].wrapping_add(i.disp as u64)
}

#[inline(always)]
pub(super) fn trunc<const SIZE: u8>(v: u64) -> u64 {
    if SIZE == 8 { v } else { v & 0xffff_ffff }
}

impl Place for Reg {
    #[inline(always)]
    fn get<const SIZE: u8>(cpu: &Cpu, _: &Memory, i: &Inst, which: Which) -> Result<u64, Trap> {
        let r = match which {
            Which::Dst => i.dreg,
            Which::Src => i.sreg,
        };
        Ok(trunc::<SIZE>(cpu.gpr[r as usize & 15]))
    }
    #[inline(always)]
    fn put<const SIZE: u8>(cpu: &mut Cpu, _: &mut Memory, i: &Inst, v: u64) -> Result<(), Trap> {
        // 32-bit writes zero the upper half.
        cpu.gpr[i.dreg as usize & 15] = trunc::<SIZE>(v);
        Ok(())
    }
}

impl Place for Mem {
    #[inline(always)]
    fn get<const SIZE: u8>(cpu: &Cpu, mem: &Memory, i: &Inst, _: Which) -> Result<u64, Trap> {
        let a = ea(cpu, i);
        if SIZE == 8 {
            mem.read_u64(a)
        } else {
            mem.read_u32(a).map(u64::from)
        }
    }
    #[inline(always)]
    fn put<const SIZE: u8>(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, v: u64) -> Result<(), Trap> {
        let a = ea(cpu, i);
        if SIZE == 8 {
            mem.write_u64(a, v)
        } else {
            mem.write_u32(a, v as u32)
        }
    }
}

impl Place for MemB {
    #[inline(always)]
    fn get<const SIZE: u8>(cpu: &Cpu, mem: &Memory, i: &Inst, _: Which) -> Result<u64, Trap> {
        let a = ea_base(cpu, i);
        if SIZE == 8 {
            mem.read_u64(a)
        } else {
            mem.read_u32(a).map(u64::from)
        }
    }
    #[inline(always)]
    fn put<const SIZE: u8>(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, v: u64) -> Result<(), Trap> {
        let a = ea_base(cpu, i);
        if SIZE == 8 {
            mem.write_u64(a, v)
        } else {
            mem.write_u32(a, v as u32)
        }
    }
}

impl Place for Imm {
    #[inline(always)]
    fn get<const SIZE: u8>(_: &Cpu, _: &Memory, i: &Inst, _: Which) -> Result<u64, Trap> {
        Ok(trunc::<SIZE>(i.imm))
    }
    #[inline(always)]
    fn put<const SIZE: u8>(_: &mut Cpu, _: &mut Memory, _: &Inst, _: u64) -> Result<(), Trap> {
        Ok(())
    }
}

const ADD: u8 = 0;
const OR: u8 = 1;
const ADC: u8 = 2;
const SBB: u8 = 3;
const AND: u8 = 4;
const SUB: u8 = 5;
const XOR: u8 = 6;
const CMP: u8 = 7;
const TEST: u8 = 8;
const MOV: u8 = 9;

/// One ALU op (or `mov`) on 32- or 64-bit operands of fixed locations.
#[inline(always)]
fn alu<const OP: u8, const SIZE: u8, D: Place, S: Place>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> ExecResult {
    let b = S::get::<SIZE>(cpu, mem, i, Which::Src)?;
    if OP == MOV {
        D::put::<SIZE>(cpu, mem, i, b)?;
        return Ok(());
    }
    let a = D::get::<SIZE>(cpu, mem, i, Which::Dst)?;
    let r = match OP {
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
    };
    if OP != CMP && OP != TEST {
        D::put::<SIZE>(cpu, mem, i, r)?;
    }
    Ok(())
}

/// Whether the memory operand of `i` is the simple `[base + disp]` form.
pub(super) fn is_base_disp(i: &Inst) -> bool {
    i.base != NO_REG && i.index == NO_REG && i.seg == seg::NONE && !i.addr32
}

/// The specialised handler for an ALU op or `mov`, if its shape has one.
fn alu_for<const OP: u8>(i: &Inst) -> Option<Handlers> {
    if is_base_disp(i) {
        let h = match (i.dst, i.src, i.size) {
            (Loc::Reg, Loc::Mem, 8) => body_handlers!(alu::<OP, 8, Reg, MemB>),
            (Loc::Reg, Loc::Mem, 4) => body_handlers!(alu::<OP, 4, Reg, MemB>),
            (Loc::Mem, Loc::Reg, 8) => body_handlers!(alu::<OP, 8, MemB, Reg>),
            (Loc::Mem, Loc::Reg, 4) => body_handlers!(alu::<OP, 4, MemB, Reg>),
            (Loc::Mem, Loc::Imm, 8) => body_handlers!(alu::<OP, 8, MemB, Imm>),
            (Loc::Mem, Loc::Imm, 4) => body_handlers!(alu::<OP, 4, MemB, Imm>),
            _ => return None,
        };
        return Some(h);
    }
    Some(match (i.dst, i.src, i.size) {
        (Loc::Reg, Loc::Reg, 8) => body_handlers!(alu::<OP, 8, Reg, Reg>),
        (Loc::Reg, Loc::Reg, 4) => body_handlers!(alu::<OP, 4, Reg, Reg>),
        (Loc::Reg, Loc::Imm, 8) => body_handlers!(alu::<OP, 8, Reg, Imm>),
        (Loc::Reg, Loc::Imm, 4) => body_handlers!(alu::<OP, 4, Reg, Imm>),
        (Loc::Reg, Loc::Mem, 8) => body_handlers!(alu::<OP, 8, Reg, Mem>),
        (Loc::Reg, Loc::Mem, 4) => body_handlers!(alu::<OP, 4, Reg, Mem>),
        (Loc::Mem, Loc::Reg, 8) => body_handlers!(alu::<OP, 8, Mem, Reg>),
        (Loc::Mem, Loc::Reg, 4) => body_handlers!(alu::<OP, 4, Mem, Reg>),
        (Loc::Mem, Loc::Imm, 8) => body_handlers!(alu::<OP, 8, Mem, Imm>),
        (Loc::Mem, Loc::Imm, 4) => body_handlers!(alu::<OP, 4, Mem, Imm>),
        _ => return None,
    })
}

/// JCC with a condition fixed at translation.
fn jcc<const CC: u8>(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> ExecResult {
    if cpu.cond(CC) {
        cpu.rip = i.imm;
    }
    Ok(())
}

fn jcc_for(cc: u8) -> Handlers {
    match cc & 15 {
        0 => last_handlers!(jcc::<0>),
        1 => last_handlers!(jcc::<1>),
        2 => last_handlers!(jcc::<2>),
        3 => last_handlers!(jcc::<3>),
        4 => last_handlers!(jcc::<4>),
        5 => last_handlers!(jcc::<5>),
        6 => last_handlers!(jcc::<6>),
        7 => last_handlers!(jcc::<7>),
        8 => last_handlers!(jcc::<8>),
        9 => last_handlers!(jcc::<9>),
        10 => last_handlers!(jcc::<10>),
        11 => last_handlers!(jcc::<11>),
        12 => last_handlers!(jcc::<12>),
        13 => last_handlers!(jcc::<13>),
        14 => last_handlers!(jcc::<14>),
        _ => last_handlers!(jcc::<15>),
    }
}

fn jmp(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> ExecResult {
    cpu.rip = i.imm;
    Ok(())
}

fn call(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    push_val(cpu, mem, 8, i.next())?;
    cpu.rip = i.imm;
    Ok(())
}

fn ret(cpu: &mut Cpu, mem: &mut Memory, _: &Inst) -> ExecResult {
    cpu.rip = pop_val(cpu, mem, 8)?;
    Ok(())
}

fn push_reg(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = cpu.gpr[i.dreg as usize & 15];
    let sp = cpu.gpr[reg::RSP].wrapping_sub(8);
    mem.write_u64(sp, v)?;
    cpu.gpr[reg::RSP] = sp;
    Ok(())
}

fn pop_reg(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let sp = cpu.gpr[reg::RSP];
    let v = mem.read_u64(sp)?;
    cpu.gpr[reg::RSP] = sp.wrapping_add(8);
    cpu.gpr[i.dreg as usize & 15] = v;
    Ok(())
}

fn lea<const SIZE: u8>(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> ExecResult {
    let a = ea(cpu, i);
    cpu.gpr[i.dreg as usize & 15] = trunc::<SIZE>(a);
    Ok(())
}

/// The specialised handler for `i`, if one exists.
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
        Op::Jcc => Some(jcc_for(i.cc)),
        Op::Jmp => Some(last_handlers!(jmp)),
        Op::Call => Some(last_handlers!(call)),
        Op::Ret if i.imm == 0 => Some(last_handlers!(ret)),
        Op::Push if i.dst == Loc::Reg && i.size == 8 && i.dreg < 16 => {
            Some(body_handlers!(push_reg))
        }
        Op::Pop if i.dst == Loc::Reg && i.size == 8 && i.dreg < 16 => Some(body_handlers!(pop_reg)),
        Op::Lea if i.dst == Loc::Reg && i.size == 8 => Some(body_handlers!(lea::<8>)),
        Op::Lea if i.dst == Loc::Reg && i.size == 4 => Some(body_handlers!(lea::<4>)),
        _ => None,
    }
}
