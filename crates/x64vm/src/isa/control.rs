//! jmp/call through registers and memory, ret, jrcxz, loop.
//! (Direct jmp and jcc are inlined in the dispatcher.)

use super::stack::{pop_val, push_val};
use super::{ExecResult, read};
use crate::cpu::{Cpu, mask, reg};
use crate::ir::Inst;
use crate::mem::Memory;

/// JMP r/m64 (jump tables, tail calls through pointers).
pub(super) fn jmp_ind(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    cpu.rip = read(cpu, mem, i, i.dst, i.dreg, 8)?;
    Ok(())
}

/// CALL rel32.
#[inline(always)]
pub(super) fn call(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    push_val(cpu, mem, 8, i.next())?;
    cpu.rip = i.imm;
    Ok(())
}

/// CALL r/m64: the target is read before RSP changes.
pub(super) fn call_ind(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let target = read(cpu, mem, i, i.dst, i.dreg, 8)?;
    push_val(cpu, mem, 8, i.next())?;
    cpu.rip = target;
    Ok(())
}

/// RET / RET imm16.
#[inline(always)]
pub(super) fn ret(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let target = pop_val(cpu, mem, 8)?;
    cpu.gpr[reg::RSP] = cpu.gpr[reg::RSP].wrapping_add(i.imm);
    cpu.rip = target;
    Ok(())
}

/// JRCXZ / JECXZ.
pub(super) fn jrcxz(cpu: &mut Cpu, i: &Inst) -> ExecResult {
    if cpu.gpr[reg::RCX] & mask(i.size) == 0 {
        cpu.rip = i.imm;
    }
    Ok(())
}

/// LOOP / LOOPE / LOOPNE: decrement RCX (ECX with an address-size prefix), no flags.
pub(super) fn looop(cpu: &mut Cpu, i: &Inst) -> ExecResult {
    let c = cpu.gpr[reg::RCX].wrapping_sub(1) & mask(i.size);
    cpu.write_reg(reg::RCX as u8, i.size, c);
    let take = c != 0
        && match i.cc {
            1 => cpu.zf(),
            2 => !cpu.zf(),
            _ => true,
        };
    if take {
        cpu.rip = i.imm;
    }
    Ok(())
}
