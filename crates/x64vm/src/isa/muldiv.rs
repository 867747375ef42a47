//! mul, imul (three forms), div, idiv, cbw/cwde/cdqe, cwd/cdq/cqo.
//!
//! Undefined flags: after MUL/IMUL, SF, ZF, AF and PF are cleared; after
//! DIV/IDIV all six status flags are cleared (docs/semantics.md).

use super::{ExecResult, read, read_src, write_dst};
use crate::cpu::{Cpu, flag, mask, reg, sext};
use crate::ir::{Inst, Op};
use crate::mem::Memory;
use crate::trap::Trap;

fn get_pair(cpu: &Cpu, size: u8) -> (u64, u64) {
    // (low, high) halves of the implicit accumulator: AX / DX:AX / EDX:EAX / RDX:RAX.
    if size == 1 {
        let ax = cpu.gpr[reg::RAX] & 0xffff;
        (ax & 0xff, ax >> 8)
    } else {
        (
            cpu.gpr[reg::RAX] & mask(size),
            cpu.gpr[reg::RDX] & mask(size),
        )
    }
}

fn set_pair(cpu: &mut Cpu, size: u8, lo: u64, hi: u64) {
    if size == 1 {
        cpu.write_reg(reg::RAX as u8, 2, (lo & 0xff) | ((hi & 0xff) << 8));
    } else {
        cpu.write_reg(reg::RAX as u8, size, lo);
        cpu.write_reg(reg::RDX as u8, size, hi);
    }
}

/// MUL r/m and IMUL r/m: the double-width product lands in (E/R)DX:(E/R)AX or AX.
pub(super) fn mul1(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let bits = i.size as u32 * 8;
    let src = read(cpu, mem, i, i.dst, i.dreg, i.size)?;
    let (a, _) = get_pair(cpu, i.size);
    let (lo, hi, overflow) = if i.op == Op::Mul {
        let p = a as u128 * src as u128;
        let lo = p as u64 & mask(i.size);
        let hi = (p >> bits) as u64 & mask(i.size);
        (lo, hi, hi != 0)
    } else {
        let p = sext(a, i.size) as i128 * sext(src, i.size) as i128;
        let lo = p as u64 & mask(i.size);
        let hi = (p >> bits) as u64 & mask(i.size);
        // Overflow when the product does not fit in the low half, sign-extended.
        (lo, hi, p != sext(lo, i.size) as i128)
    };
    set_pair(cpu, i.size, lo, hi);
    cpu.set_status(if overflow { flag::CF | flag::OF } else { 0 });
    Ok(())
}

/// IMUL r, r/m and IMUL r, r/m, imm: truncated signed product.
pub(super) fn imul2(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let b = read_src(cpu, mem, i)?;
    let a = if i.has_imm {
        i.imm & mask(i.size)
    } else {
        cpu.read_reg(i.dreg, i.size)
    };
    let p = sext(a, i.size) as i128 * sext(b, i.size) as i128;
    let lo = p as u64 & mask(i.size);
    write_dst(cpu, mem, i, lo)?;
    let overflow = p != sext(lo, i.size) as i128;
    cpu.set_status(if overflow { flag::CF | flag::OF } else { 0 });
    Ok(())
}

/// DIV/IDIV r/m: #DE on a zero divisor or a quotient that does not fit.
pub(super) fn div(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let bits = i.size as u32 * 8;
    let d = read(cpu, mem, i, i.dst, i.dreg, i.size)?;
    if d == 0 {
        return Err(Trap::DivisionByZero.into());
    }
    let (lo, hi) = get_pair(cpu, i.size);
    let (q, r) = if i.op == Op::Div {
        let n = ((hi as u128) << bits) | lo as u128;
        let q = n / d as u128;
        if q > mask(i.size) as u128 {
            return Err(Trap::DivisionOverflow.into());
        }
        (q as u64, (n % d as u128) as u64)
    } else {
        // Sign-extend the 2*bits-wide dividend.
        let wide = ((hi as u128) << bits) | lo as u128;
        let sh = 128 - 2 * bits;
        let n = ((wide << sh) as i128) >> sh;
        let dv = sext(d, i.size) as i128;
        // i128::MIN / -1 cannot occur: n has at most 128 bits only for size 8, where
        // the quotient check below catches it first via checked_div.
        let q = n.checked_div(dv).ok_or(Trap::DivisionOverflow)?;
        let r = n.checked_rem(dv).ok_or(Trap::DivisionOverflow)?;
        let min = -(1i128 << (bits - 1));
        let max = (1i128 << (bits - 1)) - 1;
        if q < min || q > max {
            return Err(Trap::DivisionOverflow.into());
        }
        (q as u64 & mask(i.size), r as u64 & mask(i.size))
    };
    if i.size == 1 {
        cpu.write_reg(reg::RAX as u8, 2, (q & 0xff) | ((r & 0xff) << 8));
    } else {
        set_pair(cpu, i.size, q, r);
    }
    cpu.set_status(0);
    Ok(())
}

/// CBW/CWDE/CDQE: sign-extend the lower half of the accumulator into all of it.
pub(super) fn sext_a(cpu: &mut Cpu, i: &Inst) -> ExecResult {
    let half = i.size / 2;
    let v = sext(cpu.gpr[reg::RAX] & mask(half), half) as u64;
    cpu.write_reg(reg::RAX as u8, i.size, v & mask(i.size));
    Ok(())
}

/// CWD/CDQ/CQO: fill DX/EDX/RDX with the sign of AX/EAX/RAX.
pub(super) fn sext_d(cpu: &mut Cpu, i: &Inst) -> ExecResult {
    let neg = sext(cpu.gpr[reg::RAX] & mask(i.size), i.size) < 0;
    cpu.write_reg(reg::RDX as u8, i.size, if neg { u64::MAX } else { 0 });
    Ok(())
}
