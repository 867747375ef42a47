//! shl/sal, shr, sar, rol, ror, rcl, rcr, shld, shrd.
//!
//! A masked count of zero changes nothing, flags included (a 32-bit register
//! destination still has its upper half cleared). For counts above 1
//! OF is undefined; x64vm computes it with the count-1 formula on the final
//! result (docs/semantics.md). AF is cleared.

use super::{ExecResult, read, read_dst, write_dst};
use crate::cpu::{Cpu, flag, mask, sext, sign_bit};
use crate::ir::{Inst, Loc, Op};
use crate::mem::Memory;

fn count(cpu: &Cpu, mem: &Memory, i: &Inst) -> Result<u32, crate::trap::Trap> {
    let c = read(cpu, mem, i, i.src, i.sreg, 1)? as u32;
    Ok(if i.size == 8 { c & 63 } else { c & 31 })
}

/// A masked count of zero changes neither the operand nor the flags, but a
/// 32-bit register destination is still written, which clears its upper half.
fn zero_count(cpu: &mut Cpu, i: &Inst, a: u64) -> ExecResult {
    if i.dst == Loc::Reg && i.size == 4 {
        cpu.write_reg(i.dreg, 4, a);
    }
    Ok(())
}

/// ZF, SF and PF of a shift's result (also used by `fast`).
#[inline(always)]
pub(super) fn szp(size: u8, r: u64) -> u64 {
    let mut f = 0;
    if r & mask(size) == 0 {
        f |= flag::ZF;
    }
    if r & sign_bit(size) != 0 {
        f |= flag::SF;
    }
    if (r as u8).count_ones().is_multiple_of(2) {
        f |= flag::PF;
    }
    f
}

/// SHL/SHR/SAR r/m, 1/imm8/CL.
pub(super) fn shift(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let n = count(cpu, mem, i)?;
    if n == 0 {
        // Still performs the read (and so the fault check).
        let a = read_dst(cpu, mem, i)?;
        return zero_count(cpu, i, a);
    }
    let bits = i.size as u32 * 8;
    let a = read_dst(cpu, mem, i)?;
    let (r, cf, of) = match i.op {
        Op::Shl => {
            let wide = (a as u128) << n;
            let r = wide as u64 & mask(i.size);
            let cf = (wide >> bits) & 1 != 0;
            (r, cf, (r & sign_bit(i.size) != 0) != cf)
        }
        Op::Shr => {
            let r = if n >= 64 { 0 } else { a >> n };
            let cf = (a as u128 >> (n - 1)) & 1 != 0;
            (r, cf, a & sign_bit(i.size) != 0)
        }
        _ => {
            let s = sext(a, i.size);
            let r = (s >> n.min(63)) as u64 & mask(i.size);
            let cf = (s >> (n - 1).min(63)) & 1 != 0;
            (r, cf, false)
        }
    };
    write_dst(cpu, mem, i, r)?;
    let mut f = szp(i.size, r);
    if cf {
        f |= flag::CF;
    }
    if of {
        f |= flag::OF;
    }
    cpu.set_status(f);
    Ok(())
}

/// ROL/ROR r/m: only CF and OF change.
pub(super) fn rotate(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let n = count(cpu, mem, i)?;
    let a = read_dst(cpu, mem, i)?;
    if n == 0 {
        return zero_count(cpu, i, a);
    }
    let bits = i.size as u32 * 8;
    let k = n % bits;
    let m = mask(i.size);
    let r = if k == 0 {
        a
    } else if i.op == Op::Rol {
        ((a << k) | (a >> (bits - k))) & m
    } else {
        ((a >> k) | (a << (bits - k))) & m
    };
    write_dst(cpu, mem, i, r)?;
    let msb = r & sign_bit(i.size) != 0;
    let (cf, of) = if i.op == Op::Rol {
        let cf = r & 1 != 0;
        (cf, msb != cf)
    } else {
        (msb, msb != (r & (sign_bit(i.size) >> 1) != 0))
    };
    let s = cpu.status() & !(flag::CF | flag::OF);
    cpu.set_status(s | cf as u64 | if of { flag::OF } else { 0 });
    Ok(())
}

/// RCL/RCR r/m: rotate through CF, one bit at a time (at most 64 steps).
pub(super) fn rotate_carry(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let n = count(cpu, mem, i)?;
    let a = read_dst(cpu, mem, i)?;
    let bits = i.size as u32 * 8;
    let k = match i.size {
        1 => n % 9,
        2 => n % 17,
        _ => n,
    };
    if n == 0 {
        return zero_count(cpu, i, a);
    }
    let m = mask(i.size);
    let top = sign_bit(i.size);
    let mut r = a;
    let mut cf = cpu.cf();
    for _ in 0..k {
        if i.op == Op::Rcl {
            let out = r & top != 0;
            r = ((r << 1) | cf as u64) & m;
            cf = out;
        } else {
            let out = r & 1 != 0;
            r = (r >> 1) | if cf { top } else { 0 };
            cf = out;
        }
    }
    let _ = bits;
    write_dst(cpu, mem, i, r)?;
    let msb = r & top != 0;
    let of = if i.op == Op::Rcl {
        msb != cf
    } else {
        msb != (r & (top >> 1) != 0)
    };
    let s = cpu.status() & !(flag::CF | flag::OF);
    cpu.set_status(s | cf as u64 | if of { flag::OF } else { 0 });
    Ok(())
}

/// SHLD/SHRD r/m, r, imm8/CL.
pub(super) fn double(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let raw = if i.ssize == 1 {
        cpu.gpr[1] as u32
    } else {
        i.imm as u32
    };
    let n = if i.size == 8 { raw & 63 } else { raw & 31 };
    let a = read_dst(cpu, mem, i)?;
    if n == 0 {
        return zero_count(cpu, i, a);
    }
    let b = read(cpu, mem, i, Loc::Reg, i.sreg, i.size)?;
    let bits = i.size as u32 * 8;
    let m = mask(i.size);
    // Build the concatenation as a 128-bit (or, for 16-bit counts past 16, a
    // repeated) pattern and shift it; counts beyond the width give the documented
    // deterministic result of that computation.
    let (r, cf) = if i.op == Op::Shld {
        let cat: u128 = ((a as u128) << bits) | b as u128;
        let cat = if i.size == 2 {
            (cat << 32) | ((a as u128) << 16) | b as u128
        } else {
            cat
        };
        let width = if i.size == 2 { 64 } else { 2 * bits };
        let shifted = cat << n;
        let r = (shifted >> (width - bits)) as u64 & m;
        let cf = (cat >> (width - n)) & 1 != 0;
        (r, cf)
    } else {
        let cat: u128 = ((b as u128) << bits) | a as u128;
        let r = (cat >> n) as u64 & m;
        let cf = (cat >> (n - 1)) & 1 != 0;
        (r, cf)
    };
    write_dst(cpu, mem, i, r)?;
    let mut f = szp(i.size, r);
    if cf {
        f |= flag::CF;
    }
    if (r ^ a) & sign_bit(i.size) != 0 {
        f |= flag::OF;
    }
    cpu.set_status(f);
    Ok(())
}
