//! mov, movzx, movsx(d), lea, cmovcc, xchg, setcc, xadd, cmpxchg, cmpxchg8b/16b.

use super::{ExecResult, ea, read, read_dst, read_src, write, write_dst};
use crate::cpu::{Cpu, FlagOp, flag, mask, reg, sext};
use crate::ir::{Inst, Loc};
use crate::mem::Memory;
use crate::trap::Trap;

/// MOV (all forms, including `movabs`).
#[inline(always)]
pub(super) fn mov(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = read_src(cpu, mem, i)?;
    write_dst(cpu, mem, i, v)?;
    Ok(())
}

/// MOVZX r, r/m8/16.
pub(super) fn movzx(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = read(cpu, mem, i, i.src, i.sreg, i.ssize)?;
    write_dst(cpu, mem, i, v)?;
    Ok(())
}

/// MOVSX/MOVSXD r, r/m.
pub(super) fn movsx(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = read(cpu, mem, i, i.src, i.sreg, i.ssize)?;
    write_dst(cpu, mem, i, sext(v, i.ssize) as u64 & mask(i.size))?;
    Ok(())
}

/// LEA r, m: the address itself, truncated to the operand size.
#[inline(always)]
pub(super) fn lea(cpu: &mut Cpu, i: &Inst) -> ExecResult {
    let a = ea(cpu, i);
    cpu.write_reg(i.dreg, i.size, a & mask(i.size));
    Ok(())
}

/// CMOVcc r, r/m. The source is read (and may fault) whatever the condition; a
/// 32-bit destination is zero-extended even when the condition is false.
pub(super) fn cmov(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = read_src(cpu, mem, i)?;
    let r = if cpu.cond(i.cc) {
        v
    } else {
        cpu.read_reg(i.dreg, i.size)
    };
    cpu.write_reg(i.dreg, i.size, r);
    Ok(())
}

/// XCHG r/m, r.
pub(super) fn xchg(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = read_dst(cpu, mem, i)?;
    let b = read_src(cpu, mem, i)?;
    write_dst(cpu, mem, i, b)?;
    write(cpu, mem, i, i.src, i.sreg, i.size, a)?;
    Ok(())
}

/// SETcc r/m8.
pub(super) fn setcc(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = cpu.cond(i.cc) as u64;
    write(cpu, mem, i, i.dst, i.dreg, 1, v)?;
    Ok(())
}

/// XADD r/m, r: dst = dst + src, src = old dst.
pub(super) fn xadd(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = read_dst(cpu, mem, i)?;
    let b = read_src(cpu, mem, i)?;
    let r = a.wrapping_add(b) & mask(i.size);
    if i.dst == Loc::Mem {
        // Memory first: the source register may be part of the address.
        write_dst(cpu, mem, i, r)?;
        write(cpu, mem, i, i.src, i.sreg, i.size, a)?;
    } else {
        // Register order matters when both are the same: the sum wins.
        write(cpu, mem, i, i.src, i.sreg, i.size, a)?;
        write_dst(cpu, mem, i, r)?;
    }
    cpu.set_flags(FlagOp::Add, i.size, a, b, r);
    Ok(())
}

/// CMPXCHG r/m, r: compare the accumulator with dst; equal: dst = src, else
/// accumulator = dst (a memory destination is written back either way, as on hardware).
pub(super) fn cmpxchg(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let d = read_dst(cpu, mem, i)?;
    let acc = cpu.read_reg(reg::RAX as u8, i.size);
    let r = acc.wrapping_sub(d) & mask(i.size);
    cpu.set_flags(FlagOp::Sub, i.size, acc, d, r);
    if acc == d {
        let s = read_src(cpu, mem, i)?;
        write_dst(cpu, mem, i, s)?;
    } else {
        if i.dst == Loc::Mem {
            write_dst(cpu, mem, i, d)?;
        }
        cpu.write_reg(reg::RAX as u8, i.size, d);
    }
    Ok(())
}

/// CMPXCHG8B m64 / CMPXCHG16B m128 (the latter requires 16-byte alignment).
pub(super) fn cmpxchg_wide(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = ea(cpu, i);
    let half = i.size / 2;
    let m = mask(half);
    let (lo, hi) = if i.size == 16 {
        if !a.is_multiple_of(16) {
            return Err(Trap::MisalignedAccess { addr: a }.into());
        }
        let v = mem.read_u128(a)?;
        (v as u64, (v >> 64) as u64)
    } else {
        let v = mem.read_u64(a)?;
        (v & m, v >> 32)
    };
    let (eax, edx) = (cpu.gpr[reg::RAX] & m, cpu.gpr[reg::RDX] & m);
    let eq = lo == eax && hi == edx;
    if eq {
        let (ebx, ecx) = (cpu.gpr[reg::RBX] & m, cpu.gpr[reg::RCX] & m);
        if i.size == 16 {
            mem.write_u128(a, (ecx as u128) << 64 | ebx as u128)?;
        } else {
            mem.write_u64(a, ecx << 32 | ebx)?;
        }
    } else {
        // Hardware writes the old value back, so a read-only operand faults either way.
        if i.size == 16 {
            mem.write_u128(a, (hi as u128) << 64 | lo as u128)?;
        } else {
            mem.write_u64(a, hi << 32 | lo)?;
        }
        cpu.write_reg(reg::RAX as u8, half, lo);
        cpu.write_reg(reg::RDX as u8, half, hi);
    }
    let s = cpu.status() & !flag::ZF;
    cpu.set_status(s | if eq { flag::ZF } else { 0 });
    Ok(())
}
