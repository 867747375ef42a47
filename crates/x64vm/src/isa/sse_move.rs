//! SSE data movement without arithmetic: scalar and half moves, sign masks,
//! duplications, shuffles, blends, inserts, extracts, zero/sign extensions and
//! `maskmovdqu`. No MXCSR flags are involved.

use super::xmm::{self, build, lane, with_lane};
use super::{ExecResult, ea};
use crate::cpu::{Cpu, sext};
use crate::ir::{Inst, Loc, sse_kind as k};
use crate::mem::Memory;

/// `movss` / `movsd` (SSE forms): a load zeroes the upper lanes, a register
/// move keeps them, a store writes one element.
pub(super) fn mov_scalar(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let w = i.ssize;
    match (i.dst, i.src) {
        (Loc::Xmm, Loc::Mem) => {
            let v = xmm::read_mem(cpu, mem, i, w, false)?;
            xmm::set_dst(cpu, i, v);
        }
        (Loc::Xmm, _) => {
            let v = cpu.xmm[i.sreg as usize & 15];
            let r = with_lane(xmm::dst(cpu, i), w as u32, 0, lane(v, w as u32, 0));
            xmm::set_dst(cpu, i, r);
        }
        _ => {
            let v = cpu.xmm[i.sreg as usize & 15];
            xmm::write_mem(cpu, mem, i, w, false, v)?;
        }
    }
    Ok(())
}

/// `movlps` / `movlpd`: load or store the low 64 bits.
pub(super) fn mov_low(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    if i.dst == Loc::Xmm {
        let v = xmm::read_mem(cpu, mem, i, 8, false)?;
        let r = with_lane(xmm::dst(cpu, i), 8, 0, v as u64);
        xmm::set_dst(cpu, i, r);
    } else {
        let v = cpu.xmm[i.sreg as usize & 15];
        xmm::write_mem(cpu, mem, i, 8, false, v)?;
    }
    Ok(())
}

/// The sign bits of the `w`-byte lanes of `v`, lane 0 in bit 0.
pub(crate) fn sign_mask(v: u128, w: u32) -> u64 {
    (0..16 / w).fold(0, |m, j| m | (lane(v, w, j) >> (w * 8 - 1)) << j)
}

/// `movmskps` / `movmskpd`.
pub(super) fn mov_mask(cpu: &mut Cpu, _mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = cpu.xmm[i.sreg as usize & 15];
    cpu.write_reg(i.dreg, 8, sign_mask(v, i.ssize as u32));
    Ok(())
}

/// `movddup` / `movshdup` / `movsldup`.
pub(super) fn dup(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let b = xmm::src(cpu, mem, i)?;
    let r = match i.cc {
        k::MOVDDUP => build(8, |_| lane(b, 8, 0)),
        k::MOVSHDUP => build(4, |j| lane(b, 4, j | 1)),
        _ => build(4, |j| lane(b, 4, j & !1)),
    };
    xmm::set_dst(cpu, i, r);
    Ok(())
}

/// The immediate-controlled shuffles and `pshufb` on vectors. For `insertps`
/// from memory, `b` holds the loaded element in lane 0 and `from_mem` is set.
pub(crate) fn shuffle_vec(kind: u8, imm: u8, a: u128, b: u128, from_mem: bool) -> u128 {
    let imm32 = imm as u32;
    match kind {
        k::SHUFPS => build(4, |j| {
            let sel = (imm32 >> (2 * j)) & 3;
            lane(if j < 2 { a } else { b }, 4, sel)
        }),
        k::SHUFPD => build(8, |j| lane(if j == 0 { a } else { b }, 8, (imm32 >> j) & 1)),
        k::BLENDPS => blend_imm(a, b, 4, imm),
        k::BLENDPD => blend_imm(a, b, 8, imm),
        k::PBLENDW => blend_imm(a, b, 2, imm),
        k::INSERTPS => {
            let x = if from_mem {
                lane(b, 4, 0)
            } else {
                lane(b, 4, imm32 >> 6)
            };
            let r = with_lane(a, 4, (imm32 >> 4) & 3, x);
            build(4, |j| {
                if imm32 >> j & 1 != 0 {
                    0
                } else {
                    lane(r, 4, j)
                }
            })
        }
        k::PALIGNR => {
            let sh = imm32 * 8;
            if sh >= 256 {
                0
            } else if sh >= 128 {
                a >> (sh - 128)
            } else if sh == 0 {
                b
            } else {
                (b >> sh) | (a << (128 - sh))
            }
        }
        _ => build(1, |j| {
            let s = lane(b, 1, j);
            if s & 0x80 != 0 {
                0
            } else {
                lane(a, 1, (s & 15) as u32)
            }
        }),
    }
}

/// Lane `j` of `w` bytes from `b` where imm bit `j` is set, else from `a`.
fn blend_imm(a: u128, b: u128, w: u32, imm: u8) -> u128 {
    build(w, |j| {
        if imm >> j & 1 != 0 {
            lane(b, w, j)
        } else {
            lane(a, w, j)
        }
    })
}

/// `shufps`, `shufpd`, `blendps`, `blendpd`, `pblendw`, `insertps`, `palignr`, `pshufb`.
pub(super) fn shuffle(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = xmm::dst(cpu, i);
    let b = xmm::src(cpu, mem, i)?;
    let r = shuffle_vec(i.cc, i.imm as u8, a, b, i.src == Loc::Mem);
    xmm::set_dst(cpu, i, r);
    Ok(())
}

/// BLENDVPS/BLENDVPD/PBLENDVB on vectors: lanes of `w` bytes from `b` where the
/// mask lane's top bit is set.
pub(crate) fn blendv_vec(a: u128, b: u128, mask: u128, w: u32) -> u128 {
    build(w, |j| {
        if lane(mask, w, j) >> (w * 8 - 1) != 0 {
            lane(b, w, j)
        } else {
            lane(a, w, j)
        }
    })
}

/// `blendvps` / `blendvpd` / `pblendvb` (mask in XMM0).
pub(super) fn blendv(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = xmm::dst(cpu, i);
    let b = xmm::src(cpu, mem, i)?;
    let r = blendv_vec(a, b, cpu.xmm[0], i.ssize as u32);
    xmm::set_dst(cpu, i, r);
    Ok(())
}

/// `pinsrb` / `pinsrd` / `pinsrq`: lane imm (modulo the lane count) from a
/// register's low bytes or memory.
pub(super) fn pinsr(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let w = i.ssize as u32;
    let v = match i.src {
        Loc::Mem => xmm::read_mem(cpu, mem, i, i.ssize, false)? as u64,
        _ => cpu.read_reg(i.sreg, 8),
    };
    let r = with_lane(xmm::dst(cpu, i), w, i.imm as u32 & (16 / w - 1), v);
    xmm::set_dst(cpu, i, r);
    Ok(())
}

/// `pextrb` / `pextrd` / `pextrq` / `extractps`: to a register (zero-extended)
/// or memory.
pub(super) fn pextr(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let w = i.ssize as u32;
    let v = lane(
        cpu.xmm[i.sreg as usize & 15],
        w,
        i.imm as u32 & (16 / w - 1),
    );
    match i.dst {
        Loc::Mem => xmm::write_mem(cpu, mem, i, i.ssize, false, v as u128)?,
        _ => cpu.write_reg(i.dreg, 8, v),
    }
    Ok(())
}

/// PMOVZX/PMOVSX on vectors: the low lanes of `sw` bytes of `b`, widened to
/// `dw` bytes.
pub(crate) fn pmovx_vec(b: u128, sw: u32, dw: u32, signed: bool) -> u128 {
    build(dw, |j| {
        let x = lane(b, sw, j);
        if signed { sext(x, sw as u8) as u64 } else { x }
    })
}

/// `pmovzx*` / `pmovsx*` (cc: destination lane size, bit 7 = signed).
pub(super) fn pmovx(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let b = match i.src {
        Loc::Mem => xmm::read_mem(cpu, mem, i, i.size, false)?,
        _ => cpu.xmm[i.sreg as usize & 15],
    };
    let r = pmovx_vec(b, i.ssize as u32, (i.cc & 0x7f) as u32, i.cc & 0x80 != 0);
    xmm::set_dst(cpu, i, r);
    Ok(())
}

/// `maskmovdqu xmm1, xmm2`: stores the bytes of xmm1 whose byte in xmm2 has its
/// top bit set, to [RDI] (with any segment override).
pub(super) fn maskmov(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = xmm::dst(cpu, i);
    let m = cpu.xmm[i.sreg as usize & 15];
    let a = ea(cpu, i);
    for j in 0..16u32 {
        if lane(m, 1, j) & 0x80 != 0 {
            mem.write_u8(a.wrapping_add(j as u64), lane(v, 1, j) as u8)?;
        }
    }
    Ok(())
}
