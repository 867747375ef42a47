//! bt/bts/btr/btc, bsf, bsr, tzcnt, lzcnt, popcnt, bswap.

use super::{ExecResult, ea, read, read_src, write_dst};
use crate::cpu::{Cpu, flag, mask, sext};
use crate::ir::{Inst, Loc, Op};
use crate::mem::Memory;

/// BT/BTS/BTR/BTC r/m, r/imm8. With a memory operand and a register offset the
/// offset is a signed bit index relative to the operand (bit-string addressing).
/// CF gets the bit; the other status flags are left unchanged.
pub(super) fn bt(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let bits = i.size as u64 * 8;
    let raw = read(cpu, mem, i, i.src, i.sreg, i.size)?;
    let (addr, bit) = if i.dst == Loc::Mem && i.src == Loc::Reg {
        let off = sext(raw, i.size);
        let unit = off.div_euclid(bits as i64);
        // The byte offset is part of the effective address: with a 32-bit
        // address size it wraps at 4 GiB along with the rest.
        let mut j = *i;
        j.disp = i.disp.wrapping_add(unit.wrapping_mul(i.size as i64));
        let a = ea(cpu, &j);
        (Some(a), off.rem_euclid(bits as i64) as u32)
    } else {
        (
            if i.dst == Loc::Mem {
                Some(ea(cpu, i))
            } else {
                None
            },
            (raw % bits) as u32,
        )
    };
    let v = match addr {
        Some(a) => mem.read_sized(a, i.size)?,
        None => cpu.read_reg(i.dreg, i.size),
    };
    let set = (v >> bit) & 1 != 0;
    let nv = match i.op {
        Op::Bts => v | (1 << bit),
        Op::Btr => v & !(1 << bit),
        Op::Btc => v ^ (1 << bit),
        _ => v,
    };
    if i.op != Op::Bt {
        match addr {
            Some(a) => mem.write_sized(a, i.size, nv)?,
            None => cpu.write_reg(i.dreg, i.size, nv),
        }
    }
    cpu.set_cf(set);
    Ok(())
}

/// BSF/BSR r, r/m. Zero source: ZF = 1 and the destination is left unchanged
/// (as current hardware does); other flags cleared.
pub(super) fn bsf_bsr(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = read_src(cpu, mem, i)?;
    if v == 0 {
        cpu.set_status(flag::ZF);
        return Ok(());
    }
    let r = if i.op == Op::Bsf {
        v.trailing_zeros()
    } else {
        63 - v.leading_zeros()
    };
    write_dst(cpu, mem, i, r as u64)?;
    cpu.set_status(0);
    Ok(())
}

/// TZCNT/LZCNT/POPCNT r, r/m.
pub(super) fn count(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let bits = i.size as u32 * 8;
    let v = read_src(cpu, mem, i)? & mask(i.size);
    let (r, f) = match i.op {
        Op::Popcnt => {
            let r = v.count_ones();
            (r, if v == 0 { flag::ZF } else { 0 })
        }
        Op::Tzcnt => {
            let r = if v == 0 { bits } else { v.trailing_zeros() };
            (
                r,
                if v == 0 { flag::CF } else { 0 } | if r == 0 { flag::ZF } else { 0 },
            )
        }
        _ => {
            let r = if v == 0 {
                bits
            } else {
                v.leading_zeros() - (64 - bits)
            };
            (
                r,
                if v == 0 { flag::CF } else { 0 } | if r == 0 { flag::ZF } else { 0 },
            )
        }
    };
    write_dst(cpu, mem, i, r as u64)?;
    cpu.set_status(f);
    Ok(())
}

/// BSWAP r32/r64. The 16-bit form is undefined; x64vm writes 0.
pub(super) fn bswap(cpu: &mut Cpu, i: &Inst) -> ExecResult {
    let v = cpu.read_reg(i.dreg, i.size);
    let r = match i.size {
        8 => v.swap_bytes(),
        4 => (v as u32).swap_bytes() as u64,
        _ => 0,
    };
    cpu.write_reg(i.dreg, i.size, r);
    Ok(())
}
