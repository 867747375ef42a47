//! push, pop, enter, leave, pushf, popf.

use super::{ExecResult, read_src, write_dst};
use crate::cpu::{Cpu, reg};
use crate::ir::Inst;
use crate::mem::Memory;

/// Pushes `size` bytes.
#[inline(always)]
pub(crate) fn push_val(cpu: &mut Cpu, mem: &mut Memory, size: u8, v: u64) -> ExecResult {
    let sp = cpu.gpr[reg::RSP].wrapping_sub(size as u64);
    mem.write_sized(sp, size, v)?;
    cpu.gpr[reg::RSP] = sp;
    Ok(())
}

/// Pops `size` bytes.
#[inline(always)]
pub(crate) fn pop_val(cpu: &mut Cpu, mem: &Memory, size: u8) -> Result<u64, crate::trap::Trap> {
    let sp = cpu.gpr[reg::RSP];
    let v = mem.read_sized(sp, size)?;
    cpu.gpr[reg::RSP] = sp.wrapping_add(size as u64);
    Ok(v)
}

/// PUSH r/m/imm (`push rsp` pushes the value before the decrement).
#[inline(always)]
pub(super) fn push(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let mut j = *i;
    // The operand was decoded as the destination; read it as a source.
    j.src = i.dst;
    j.sreg = i.dreg;
    let v = read_src(cpu, mem, &j)?;
    push_val(cpu, mem, i.size, v)
}

/// POP r/m (a memory destination is addressed with the incremented RSP).
#[inline(always)]
pub(super) fn pop(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let old = cpu.gpr[reg::RSP];
    let v = pop_val(cpu, mem, i.size)?;
    if let Err(t) = write_dst(cpu, mem, i, v) {
        cpu.gpr[reg::RSP] = old;
        return Err(t.into());
    }
    Ok(())
}

/// ENTER imm16, imm8. Registers change only once everything succeeded: like
/// hardware, the instruction ends with a write check of the qword at the final
/// RSP, so a frame reaching unwritable memory faults with RSP and RBP unchanged.
pub(super) fn enter(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let level = i.cc & 31;
    let mut sp = cpu.gpr[reg::RSP].wrapping_sub(8);
    mem.write_u64(sp, cpu.gpr[reg::RBP])?;
    let frame = sp;
    if level > 0 {
        let mut bp = cpu.gpr[reg::RBP];
        for _ in 1..level {
            bp = bp.wrapping_sub(8);
            let v = mem.read_u64(bp)?;
            sp = sp.wrapping_sub(8);
            mem.write_u64(sp, v)?;
        }
        sp = sp.wrapping_sub(8);
        mem.write_u64(sp, frame)?;
    }
    sp = sp.wrapping_sub(i.imm);
    let probe = mem.read_u64(sp)?;
    mem.write_u64(sp, probe)?;
    cpu.gpr[reg::RBP] = frame;
    cpu.gpr[reg::RSP] = sp;
    Ok(())
}

/// LEAVE: RSP = RBP, then pop RBP.
pub(super) fn leave(cpu: &mut Cpu, mem: &Memory) -> ExecResult {
    let v = mem.read_u64(cpu.gpr[reg::RBP])?;
    cpu.gpr[reg::RSP] = cpu.gpr[reg::RBP].wrapping_add(8);
    cpu.gpr[reg::RBP] = v;
    Ok(())
}

/// PUSHF/PUSHFQ.
pub(super) fn pushf(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let f = cpu.rflags();
    push_val(cpu, mem, i.size, f)
}

/// POPF/POPFQ: only user-writable flags change.
pub(super) fn popf(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = pop_val(cpu, mem, i.size)?;
    let v = if i.size == 2 {
        (cpu.rflags() & !0xffff) | v
    } else {
        v
    };
    cpu.set_rflags(v);
    Ok(())
}
