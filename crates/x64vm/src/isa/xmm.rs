//! Operand access shared by the SSE families (`sse_float`, `sse_int`,
//! `sse_string`): XMM registers, memory operands of 1..16 bytes with the
//! legacy-SSE alignment rule, and lane helpers.

use super::ea;
use crate::cpu::Cpu;
use crate::ir::{Inst, Loc};
use crate::mem::Memory;
use crate::trap::Trap;

/// Reads `size` bytes (1, 2, 4, 8 or 16) of memory at the instruction's address,
/// zero-extended. A 16-byte access must be 16-byte aligned when `aligned`.
#[inline(always)]
pub(super) fn read_mem(
    cpu: &Cpu,
    mem: &Memory,
    i: &Inst,
    size: u8,
    aligned: bool,
) -> Result<u128, Trap> {
    let a = ea(cpu, i);
    if size == 16 {
        if aligned && a & 15 != 0 {
            return Err(Trap::MisalignedAccess { addr: a });
        }
        return mem.read_u128(a);
    }
    mem.read_sized(a, size).map(u128::from)
}

/// Writes the low `size` bytes (1, 2, 4, 8 or 16) of `v` to the memory operand.
#[inline(always)]
pub(super) fn write_mem(
    cpu: &Cpu,
    mem: &mut Memory,
    i: &Inst,
    size: u8,
    aligned: bool,
    v: u128,
) -> Result<(), Trap> {
    let a = ea(cpu, i);
    if size == 16 {
        if aligned && a & 15 != 0 {
            return Err(Trap::MisalignedAccess { addr: a });
        }
        return mem.write_u128(a, v);
    }
    mem.write_sized(a, size, v as u64)
}

/// The source operand: a whole XMM register, a general register, or `i.size`
/// bytes of memory. Legacy-SSE rule: a 16-byte memory operand must be aligned.
#[inline(always)]
pub(super) fn src(cpu: &Cpu, mem: &Memory, i: &Inst) -> Result<u128, Trap> {
    match i.src {
        Loc::Xmm => Ok(cpu.xmm[i.sreg as usize & 15]),
        Loc::Reg => Ok(cpu.read_reg(i.sreg, i.size.min(8)) as u128),
        Loc::Mem => read_mem(cpu, mem, i, i.size, true),
        _ => Ok(0),
    }
}

/// As [`src`], without the alignment rule (`movups`, `pcmpistri`, ...).
#[inline(always)]
pub(super) fn src_unaligned(cpu: &Cpu, mem: &Memory, i: &Inst) -> Result<u128, Trap> {
    match i.src {
        Loc::Mem => read_mem(cpu, mem, i, i.size, false),
        _ => src(cpu, mem, i),
    }
}

/// The destination XMM register's value.
#[inline(always)]
pub(super) fn dst(cpu: &Cpu, i: &Inst) -> u128 {
    cpu.xmm[i.dreg as usize & 15]
}

/// Sets the destination XMM register.
#[inline(always)]
pub(super) fn set_dst(cpu: &mut Cpu, i: &Inst, v: u128) {
    cpu.xmm[i.dreg as usize & 15] = v;
}

/// Mask of the low `bytes` bytes of a 128-bit value.
#[inline(always)]
pub(super) fn low_mask(bytes: u32) -> u128 {
    if bytes >= 16 {
        u128::MAX
    } else {
        (1u128 << (bytes * 8)) - 1
    }
}

/// Lane `k` of `w` bytes.
#[inline(always)]
pub(super) fn lane(v: u128, w: u32, k: u32) -> u64 {
    ((v >> (k * w * 8)) & low_mask(w)) as u64
}

/// `v` with lane `k` of `w` bytes replaced by `x`.
#[inline(always)]
pub(super) fn with_lane(v: u128, w: u32, k: u32, x: u64) -> u128 {
    let sh = k * w * 8;
    (v & !(low_mask(w) << sh)) | ((x as u128 & low_mask(w)) << sh)
}

/// Builds a vector from `16 / w` lanes produced by `f(k)`.
#[inline(always)]
pub(super) fn build(w: u32, mut f: impl FnMut(u32) -> u64) -> u128 {
    (0..16 / w).fold(0u128, |v, k| {
        v | ((f(k) as u128 & low_mask(w)) << (k * w * 8))
    })
}
