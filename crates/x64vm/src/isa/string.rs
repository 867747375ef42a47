//! movs, stos, lods, cmps, scas with rep / repe / repne.
//!
//! Each iteration beyond the first costs gas (docs/gas.md), charged before it
//! runs, so a huge RCX runs out of gas instead of hanging: up front for the
//! unconditional forms, one by one for repe/repne cmps and scas. Forward `rep movs`
//! and `rep stos` take a bulk path that is equivalent to the byte-wise loop.

use super::ExecResult;
use crate::cpu::{Cpu, FlagOp, mask, reg};
use crate::ir::{Inst, Op, rep, seg};
use crate::mem::Memory;
use crate::trap::Trap;

/// Gas for each repeated iteration.
pub const GAS_PER_ITERATION: u64 = 1;

fn src_base(cpu: &Cpu, i: &Inst) -> u64 {
    match i.seg {
        seg::FS => cpu.fs_base,
        seg::GS => cpu.gs_base,
        _ => 0,
    }
}

fn charge(cpu: &mut Cpu, n: u64) -> Result<(), Trap> {
    let cost = n.saturating_mul(GAS_PER_ITERATION);
    if cpu.gas < cost {
        cpu.gas = 0;
        return Err(Trap::OutOfGas);
    }
    cpu.gas -= cost;
    Ok(())
}

/// One string instruction, repeated as its prefix says.
pub(super) fn string(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let size = i.size as u64;
    let step = if cpu.df() { size.wrapping_neg() } else { size };
    if i.cc == rep::NONE {
        once(cpu, mem, i, step)?;
        return Ok(());
    }
    let count = cpu.gpr[reg::RCX];
    if count == 0 {
        return Ok(());
    }
    // repe/repne cmps and scas may stop early (the `repne scasb` strlen idiom runs
    // with RCX = -1): they pay per iteration run. The others run the full count.
    let conditional = matches!(i.op, Op::Cmps | Op::Scas);
    if !conditional {
        charge(cpu, count - 1)?;
        if !cpu.df() && bulk(cpu, mem, i, count)? {
            return Ok(());
        }
    }
    let mut first = true;
    loop {
        if conditional && !first {
            charge(cpu, 1)?;
        }
        first = false;
        let keep_going = once(cpu, mem, i, step)?;
        cpu.gpr[reg::RCX] -= 1;
        if cpu.gpr[reg::RCX] == 0 || !keep_going {
            return Ok(());
        }
    }
}

/// Fast path for forward `rep movs` / `rep stos`. Returns false when the slow
/// loop must run instead (overlap that replicates, a fault somewhere in the range).
fn bulk(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, count: u64) -> Result<bool, Trap> {
    let Some(len) = count.checked_mul(i.size as u64) else {
        return Ok(false);
    };
    let dst = cpu.gpr[reg::RDI];
    match i.op {
        Op::Stos => {
            let v = cpu.gpr[reg::RAX] & mask(i.size);
            if mem.fill_pattern(dst, len, v, i.size).is_err() {
                return Ok(false);
            }
        }
        Op::Movs => {
            let src = cpu.gpr[reg::RSI].wrapping_add(src_base(cpu, i));
            // A forward copy onto a later, overlapping destination replicates the
            // pattern; leave that to the exact loop.
            if dst > src && dst - src < len {
                return Ok(false);
            }
            if mem.copy(dst, src, len).is_err() {
                return Ok(false);
            }
            cpu.gpr[reg::RSI] = cpu.gpr[reg::RSI].wrapping_add(len);
        }
        _ => return Ok(false),
    }
    cpu.gpr[reg::RDI] = dst.wrapping_add(len);
    cpu.gpr[reg::RCX] = 0;
    Ok(true)
}

/// Runs one iteration; returns whether a repe/repne loop may continue.
fn once(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, step: u64) -> Result<bool, Trap> {
    let s = i.size;
    let rsi = cpu.gpr[reg::RSI];
    let rdi = cpu.gpr[reg::RDI];
    match i.op {
        Op::Movs => {
            let v = mem.read_sized(rsi.wrapping_add(src_base(cpu, i)), s)?;
            mem.write_sized(rdi, s, v)?;
            cpu.gpr[reg::RSI] = rsi.wrapping_add(step);
            cpu.gpr[reg::RDI] = rdi.wrapping_add(step);
            Ok(true)
        }
        Op::Stos => {
            mem.write_sized(rdi, s, cpu.gpr[reg::RAX])?;
            cpu.gpr[reg::RDI] = rdi.wrapping_add(step);
            Ok(true)
        }
        Op::Lods => {
            let v = mem.read_sized(rsi.wrapping_add(src_base(cpu, i)), s)?;
            cpu.write_reg(reg::RAX as u8, s, v);
            cpu.gpr[reg::RSI] = rsi.wrapping_add(step);
            Ok(true)
        }
        Op::Cmps => {
            let a = mem.read_sized(rsi.wrapping_add(src_base(cpu, i)), s)?;
            let b = mem.read_sized(rdi, s)?;
            let r = a.wrapping_sub(b) & mask(s);
            cpu.set_flags(FlagOp::Sub, s, a, b, r);
            cpu.gpr[reg::RSI] = rsi.wrapping_add(step);
            cpu.gpr[reg::RDI] = rdi.wrapping_add(step);
            Ok(continues(i, a == b))
        }
        _ => {
            let a = cpu.gpr[reg::RAX] & mask(s);
            let b = mem.read_sized(rdi, s)?;
            let r = a.wrapping_sub(b) & mask(s);
            cpu.set_flags(FlagOp::Sub, s, a, b, r);
            cpu.gpr[reg::RDI] = rdi.wrapping_add(step);
            Ok(continues(i, a == b))
        }
    }
}

fn continues(i: &Inst, equal: bool) -> bool {
    match i.cc {
        rep::REPE => equal,
        rep::REPNE => !equal,
        _ => true,
    }
}
