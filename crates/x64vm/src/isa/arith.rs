//! add, adc, sub, sbb, cmp, and, or, xor, test, inc, dec, neg, not.

use super::{ExecResult, read_dst, read_src, write_dst};
use crate::cpu::{Cpu, FlagOp, mask};
use crate::ir::{Inst, Op};
use crate::mem::Memory;

/// ADD/ADC/SUB/SBB/CMP r/m, r/m/imm — SDM Vol.2A.
#[inline(always)]
pub(super) fn addsub(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let m = mask(i.size);
    let a = read_dst(cpu, mem, i)?;
    let b = read_src(cpu, mem, i)?;
    let res = match i.op {
        Op::Add => {
            let r = a.wrapping_add(b) & m;
            cpu.set_flags(FlagOp::Add, i.size, a, b, r);
            r
        }
        Op::Adc => {
            let c = cpu.cf();
            let r = a.wrapping_add(b).wrapping_add(c as u64) & m;
            cpu.set_flags_carry(FlagOp::Adc, i.size, a, b, r, c);
            r
        }
        Op::Sbb => {
            let c = cpu.cf();
            let r = a.wrapping_sub(b).wrapping_sub(c as u64) & m;
            cpu.set_flags_carry(FlagOp::Sbb, i.size, a, b, r, c);
            r
        }
        _ => {
            let r = a.wrapping_sub(b) & m;
            cpu.set_flags(FlagOp::Sub, i.size, a, b, r);
            if i.op == Op::Cmp {
                return Ok(());
            }
            r
        }
    };
    write_dst(cpu, mem, i, res)?;
    Ok(())
}

/// AND/OR/XOR/TEST — SDM Vol.2A. AF is undefined; x64vm clears it.
#[inline(always)]
pub(super) fn logic(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = read_dst(cpu, mem, i)?;
    let b = read_src(cpu, mem, i)?;
    let r = match i.op {
        Op::And | Op::Test => a & b,
        Op::Or => a | b,
        _ => a ^ b,
    };
    cpu.set_flags(FlagOp::Logic, i.size, 0, 0, r);
    if i.op != Op::Test {
        write_dst(cpu, mem, i, r)?;
    }
    Ok(())
}

/// INC/DEC r/m — CF is preserved.
pub(super) fn incdec(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = read_dst(cpu, mem, i)?;
    let (op, r) = if i.op == Op::Inc {
        (FlagOp::Inc, a.wrapping_add(1))
    } else {
        (FlagOp::Dec, a.wrapping_sub(1))
    };
    let r = r & mask(i.size);
    write_dst(cpu, mem, i, r)?;
    cpu.set_flags_incdec(op, i.size, a, r);
    Ok(())
}

/// NEG r/m — flags as `0 - x`.
pub(super) fn neg(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let b = read_dst(cpu, mem, i)?;
    let r = 0u64.wrapping_sub(b) & mask(i.size);
    write_dst(cpu, mem, i, r)?;
    cpu.set_flags(FlagOp::Sub, i.size, 0, b, r);
    Ok(())
}

/// NOT r/m — no flags.
pub(super) fn not(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = read_dst(cpu, mem, i)?;
    write_dst(cpu, mem, i, !a & mask(i.size))?;
    Ok(())
}
