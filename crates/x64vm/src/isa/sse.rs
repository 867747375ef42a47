//! The SSE moves and bitwise ops that integer code gets from compilers (struct
//! copies, zeroing, `memset` expansions). The full SSE set comes later.

use super::{ExecResult, ea};
use crate::cpu::{Cpu, mask, sext};
use crate::ir::{Inst, Loc, Op};
use crate::mem::Memory;
use crate::trap::Trap;

fn read128(
    cpu: &Cpu,
    mem: &Memory,
    i: &Inst,
    loc: Loc,
    reg: u8,
    aligned: bool,
) -> Result<u128, Trap> {
    match loc {
        Loc::Xmm => Ok(cpu.xmm[reg as usize & 15]),
        _ => {
            let a = ea(cpu, i);
            if aligned && a & 15 != 0 {
                return Err(Trap::MisalignedAccess { addr: a });
            }
            mem.read_u128(a)
        }
    }
}

fn write128(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, v: u128, aligned: bool) -> Result<(), Trap> {
    match i.dst {
        Loc::Xmm => {
            cpu.xmm[i.dreg as usize & 15] = v;
            Ok(())
        }
        _ => {
            let a = ea(cpu, i);
            if aligned && a & 15 != 0 {
                return Err(Trap::MisalignedAccess { addr: a });
            }
            mem.write_u128(a, v)
        }
    }
}

/// Executes one of the SSE ops above.
pub(super) fn exec(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    match i.op {
        Op::Movx => {
            let aligned = i.cc == 1;
            let v = read128(cpu, mem, i, i.src, i.sreg, aligned)?;
            write128(cpu, mem, i, v, aligned)?;
        }
        Op::Pxor | Op::Por | Op::Pand => {
            // Legacy-SSE packed ops with a memory source require alignment.
            let b = read128(cpu, mem, i, i.src, i.sreg, true)?;
            let a = cpu.xmm[i.dreg as usize & 15];
            cpu.xmm[i.dreg as usize & 15] = match i.op {
                Op::Pxor => a ^ b,
                Op::Por => a | b,
                _ => a & b,
            };
        }
        Op::Punpcklqdq => {
            let b = read128(cpu, mem, i, i.src, i.sreg, i.src == Loc::Mem)?;
            let a = cpu.xmm[i.dreg as usize & 15];
            cpu.xmm[i.dreg as usize & 15] = (a & u64::MAX as u128) | (b << 64);
        }
        Op::MovHigh => {
            if i.cc == 2 {
                // movhlps: the low half gets the source's high half.
                let v = cpu.xmm[i.sreg as usize & 15] >> 64;
                let x = &mut cpu.xmm[i.dreg as usize & 15];
                *x = (*x & !(u64::MAX as u128)) | v;
            } else if i.cc == 1 {
                let v = mem.read_u64(ea(cpu, i))?;
                let x = &mut cpu.xmm[i.dreg as usize & 15];
                *x = (*x & u64::MAX as u128) | ((v as u128) << 64);
            } else {
                let v = (cpu.xmm[i.sreg as usize & 15] >> 64) as u64;
                mem.write_u64(ea(cpu, i), v)?;
            }
        }
        Op::Padd
        | Op::Psub
        | Op::Pcmpeq
        | Op::Pcmpgt
        | Op::Pandn
        | Op::Punpckl
        | Op::Punpckh
        | Op::Pshufd
        | Op::Pshufw => {
            let b = read128(cpu, mem, i, i.src, i.sreg, true)?;
            let a = cpu.xmm[i.dreg as usize & 15];
            cpu.xmm[i.dreg as usize & 15] = packed(i, a, b);
        }
        Op::Psll | Op::Psrl | Op::Psra => {
            let count = match i.src {
                Loc::Imm => i.imm & 0xff,
                _ => read128(cpu, mem, i, i.src, i.sreg, true)? as u64,
            };
            let x = &mut cpu.xmm[i.dreg as usize & 15];
            *x = shift_lanes(i.op, i.cc, *x, count);
        }
        Op::PshiftBytes => {
            let n = (i.imm & 0xff).min(16) as u32 * 8;
            let x = &mut cpu.xmm[i.dreg as usize & 15];
            *x = match (n, i.cc) {
                (128, _) => 0,
                (_, 1) => *x << n,
                _ => *x >> n,
            };
        }
        Op::Pinsrw => {
            let v = match i.src {
                Loc::Reg => cpu.read_reg(i.sreg, 2),
                _ => mem.read_sized(ea(cpu, i), 2)?,
            };
            let sh = (i.imm & 7) as u32 * 16;
            let x = &mut cpu.xmm[i.dreg as usize & 15];
            *x = (*x & !(0xffffu128 << sh)) | ((v as u128 & 0xffff) << sh);
        }
        Op::Pextrw => {
            let v = (cpu.xmm[i.sreg as usize & 15] >> ((i.imm & 7) as u32 * 16)) as u64 & 0xffff;
            match i.dst {
                Loc::Reg => cpu.write_reg(i.dreg, i.size.max(4), v),
                _ => mem.write_sized(ea(cpu, i), 2, v)?,
            }
        }
        Op::Pmovmskb => {
            let x = cpu.xmm[i.sreg as usize & 15];
            let bits = (0..16).fold(0u64, |m, k| m | (((x >> (8 * k + 7)) & 1) as u64) << k);
            cpu.write_reg(i.dreg, i.size.max(4), bits);
        }
        _ => movd_movq(cpu, mem, i)?,
    }
    Ok(())
}

/// Applies `f` to each pair of `lane`-byte lanes of `a` and `b`.
fn lanes(a: u128, b: u128, lane: u8, f: impl Fn(u64, u64) -> u64) -> u128 {
    let bits = lane as u32 * 8;
    let m = mask(lane);
    (0..128 / bits).fold(0u128, |r, k| {
        let sh = k * bits;
        let x = (a >> sh) as u64 & m;
        let y = (b >> sh) as u64 & m;
        r | ((f(x, y) & m) as u128) << sh
    })
}

/// Lane `k` of `lane` bytes.
fn lane_at(v: u128, lane: u8, k: u32) -> u128 {
    (v >> (k * lane as u32 * 8)) & mask(lane) as u128
}

/// The two-operand packed-integer ops: `a op b` (lane size in `cc`).
fn packed(i: &Inst, a: u128, b: u128) -> u128 {
    let lane = i.cc;
    match i.op {
        Op::Padd => lanes(a, b, lane, u64::wrapping_add),
        Op::Psub => lanes(a, b, lane, u64::wrapping_sub),
        Op::Pcmpeq => lanes(a, b, lane, |x, y| if x == y { u64::MAX } else { 0 }),
        Op::Pcmpgt => lanes(a, b, lane, |x, y| {
            if sext(x, lane) > sext(y, lane) {
                u64::MAX
            } else {
                0
            }
        }),
        Op::Pandn => !a & b,
        Op::Punpckl | Op::Punpckh => {
            // Interleave the low (or high) halves: a0 b0 a1 b1 ...
            let n = 8 / lane as u32;
            let base = if i.op == Op::Punpckh { n } else { 0 };
            let bits = lane as u32 * 8;
            (0..n).fold(0u128, |r, k| {
                r | lane_at(a, lane, base + k) << (2 * k * bits)
                    | lane_at(b, lane, base + k) << ((2 * k + 1) * bits)
            })
        }
        Op::Pshufd => (0..4).fold(0u128, |r, k| {
            r | lane_at(b, 4, (i.imm >> (2 * k)) as u32 & 3) << (32 * k)
        }),
        _ => {
            // pshuflw / pshufhw: shuffle four words of one half, copy the other half.
            let half = if i.cc == 1 { 4 } else { 0 };
            let keep = if i.cc == 1 {
                b & u64::MAX as u128
            } else {
                b & !(u64::MAX as u128)
            };
            (0..4).fold(keep, |r, k| {
                r | lane_at(b, 2, half + ((i.imm >> (2 * k)) as u32 & 3)) << (16 * (half + k))
            })
        }
    }
}

/// PSLL/PSRL/PSRA on `lane`-byte lanes; counts past the lane width give zero (or
/// the sign, for PSRA).
fn shift_lanes(op: Op, lane: u8, v: u128, count: u64) -> u128 {
    let bits = lane as u64 * 8;
    lanes(v, 0, lane, |x, _| match op {
        Op::Psll if count < bits => x << count,
        Op::Psrl if count < bits => x >> count,
        Op::Psra => (sext(x, lane) >> count.min(bits - 1)) as u64,
        _ => 0,
    })
}

/// MOVD/MOVQ: to an XMM register the value is zero-extended to 128 bits; from
/// one, the low 32/64 bits are taken.
fn movd_movq(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> Result<(), Trap> {
    let v: u64 = match i.src {
        Loc::Xmm => cpu.xmm[i.sreg as usize & 15] as u64,
        Loc::Reg => cpu.read_reg(i.sreg, i.size),
        Loc::Mem => mem.read_sized(ea(cpu, i), i.size)?,
        _ => 0,
    } & crate::cpu::mask(i.size);
    match i.dst {
        Loc::Xmm => cpu.xmm[i.dreg as usize & 15] = v as u128,
        Loc::Reg => cpu.write_reg(i.dreg, i.size, v),
        Loc::Mem => mem.write_sized(ea(cpu, i), i.size, v)?,
        _ => {}
    }
    Ok(())
}
