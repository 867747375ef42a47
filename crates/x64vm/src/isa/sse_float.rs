//! SSE/SSE2/SSE3/SSE4.1 floating point: arithmetic, min/max, square roots and
//! approximations, compares, conversions, rounding, dot products, and MXCSR.
//!
//! The per-element semantics live in [`super::softfloat`]; this module moves
//! operands in and out of lanes, merges the raised exception flags into MXCSR
//! and traps (`simd_float_exception`, destination unchanged) when one of them is
//! unmasked.

use super::ExecResult;
use super::softfloat::{self as sf, Env, F32, F64, Format, Rc, mx};
use super::xmm::{self, build, lane, with_lane};
use crate::cpu::{Cpu, flag};
use crate::ir::{Inst, Loc, sse_kind as k};
use crate::mem::Memory;
use crate::trap::Trap;

/// Merges `env`'s flags into MXCSR; traps when any of them is unmasked.
#[inline(always)]
fn finish(cpu: &mut Cpu, env: &Env) -> Result<(), Trap> {
    if env.flags == 0 {
        return Ok(());
    }
    cpu.mxcsr |= env.flags;
    if env.flags & !((cpu.mxcsr & mx::MASKS) >> 7) & mx::FLAGS != 0 {
        return Err(Trap::SimdFloatException { flags: env.flags });
    }
    Ok(())
}

/// Element width in bytes of format `F`.
#[inline(always)]
fn width<F: Format>() -> u32 {
    F::BITS / 8
}

/// One element of a two-operand arithmetic op.
#[inline(always)]
fn arith_elem<F: Format>(kind: u8, a: u64, b: u64, env: &mut Env) -> u64 {
    match kind {
        k::ADD => sf::add::<F>(a, b, false, env),
        k::SUB => sf::add::<F>(a, b, true, env),
        k::MUL => sf::mul::<F>(a, b, env),
        k::DIV => sf::div::<F>(a, b, env),
        k::MIN => sf::min_max::<F>(a, b, false, env),
        k::MAX => sf::min_max::<F>(a, b, true, env),
        k::SQRT => sf::sqrt::<F>(b, env),
        k::RCP => sf::rcp32(b as u32) as u64,
        _ => sf::rsqrt32(b as u32) as u64,
    }
}

/// The arithmetic of `SseFloatArith`, `SseFloatDiv` and `SseFloatApprox` on two
/// vectors: packed when `packed`, else the low element with the rest of `a` kept.
pub(crate) fn arith_vec<F: Format>(
    kind: u8,
    packed: bool,
    a: u128,
    b: u128,
    env: &mut Env,
) -> u128 {
    let w = width::<F>();
    let n = 16 / w;
    match kind {
        k::ADDSUB => build(w, |j| {
            sf::add::<F>(lane(a, w, j), lane(b, w, j), j % 2 == 0, env)
        }),
        k::HADD | k::HSUB => build(w, |j| {
            let (v, e) = if j < n / 2 {
                (a, 2 * j)
            } else {
                (b, 2 * (j - n / 2))
            };
            sf::add::<F>(lane(v, w, e), lane(v, w, e + 1), kind == k::HSUB, env)
        }),
        _ if packed => build(w, |j| {
            arith_elem::<F>(kind, lane(a, w, j), lane(b, w, j), env)
        }),
        _ => with_lane(
            a,
            w,
            0,
            arith_elem::<F>(kind, lane(a, w, 0), lane(b, w, 0), env),
        ),
    }
}

/// `addps`, `subsd`, `sqrtss`, `haddpd`, `rcpps`, ... (selector in `cc`).
pub(super) fn arith(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = xmm::dst(cpu, i);
    let b = xmm::src(cpu, mem, i)?;
    let mut env = Env::new(cpu.mxcsr);
    let packed = i.size == 16;
    let r = if i.ssize == 4 {
        arith_vec::<F32>(i.cc, packed, a, b, &mut env)
    } else {
        arith_vec::<F64>(i.cc, packed, a, b, &mut env)
    };
    finish(cpu, &env)?;
    xmm::set_dst(cpu, i, r);
    Ok(())
}

/// CMPPS/CMPSS and friends on vectors: all-ones lanes where predicate `pred` holds.
pub(crate) fn cmp_vec<F: Format>(pred: u8, packed: bool, a: u128, b: u128, env: &mut Env) -> u128 {
    let w = width::<F>();
    let ones = u64::MAX;
    let f = |x: u64, y: u64, env: &mut Env| {
        if sf::cmp_predicate::<F>(x, y, pred, env) {
            ones
        } else {
            0
        }
    };
    if packed {
        build(w, |j| f(lane(a, w, j), lane(b, w, j), env))
    } else {
        with_lane(a, w, 0, f(lane(a, w, 0), lane(b, w, 0), env))
    }
}

/// `cmpps` / `cmppd` / `cmpss` / `cmpsd` (the SSE forms): predicate in imm[2:0].
pub(super) fn cmp(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = xmm::dst(cpu, i);
    let b = xmm::src(cpu, mem, i)?;
    let mut env = Env::new(cpu.mxcsr);
    let pred = i.imm as u8 & 7;
    let packed = i.size == 16;
    let r = if i.ssize == 4 {
        cmp_vec::<F32>(pred, packed, a, b, &mut env)
    } else {
        cmp_vec::<F64>(pred, packed, a, b, &mut env)
    };
    finish(cpu, &env)?;
    xmm::set_dst(cpu, i, r);
    Ok(())
}

/// `comiss` / `ucomiss` / `comisd` / `ucomisd`: ZF, PF, CF from the ordered
/// comparison (all three set when unordered); OF, SF, AF cleared.
pub(super) fn comi(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = xmm::dst(cpu, i);
    let b = xmm::src(cpu, mem, i)?;
    let mut env = Env::new(cpu.mxcsr);
    let signalling = i.cc == 1;
    let c = if i.ssize == 4 {
        sf::compare::<F32>(lane(a, 4, 0), lane(b, 4, 0), signalling, &mut env)
    } else {
        sf::compare::<F64>(lane(a, 8, 0), lane(b, 8, 0), signalling, &mut env)
    };
    finish(cpu, &env)?;
    cpu.set_status(comi_flags(c));
    Ok(())
}

/// RFLAGS of COMISS for a comparison outcome.
pub(crate) fn comi_flags(c: sf::Cmp) -> u64 {
    match c {
        sf::Cmp::Unordered => flag::ZF | flag::PF | flag::CF,
        sf::Cmp::Less => flag::CF,
        sf::Cmp::Equal => flag::ZF,
        sf::Cmp::Greater => 0,
    }
}

/// Converts a 32-bit or 64-bit integer to `F`.
fn int_to<F: Format>(v: u64, int_size: u8, env: &mut Env) -> u64 {
    let v = if int_size == 4 {
        v as u32 as i32 as i64
    } else {
        v as i64
    };
    sf::from_int::<F>(v, env)
}

/// The `cvt*` family (selector in `cc`, see [`crate::ir::sse_kind`]).
pub(super) fn cvt(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let mut env = Env::new(cpu.mxcsr);
    let a = xmm::dst(cpu, i);
    match i.cc {
        k::CVT_I2F => {
            let v = xmm::src(cpu, mem, i)? as u64;
            let r = if i.ssize == 4 {
                int_to::<F32>(v, i.size, &mut env)
            } else {
                int_to::<F64>(v, i.size, &mut env)
            };
            finish(cpu, &env)?;
            xmm::set_dst(cpu, i, with_lane(a, i.ssize as u32, 0, r));
        }
        k::CVT_F2I | k::CVTT_F2I => {
            let b = match i.src {
                Loc::Mem => xmm::read_mem(cpu, mem, i, i.ssize, false)?,
                _ => xmm::src(cpu, mem, i)?,
            };
            let rc = if i.cc == k::CVTT_F2I {
                Rc::Zero
            } else {
                env.rc
            };
            let bits = i.size as u32 * 8;
            let r = if i.ssize == 4 {
                sf::to_int::<F32>(lane(b, 4, 0), bits, rc, &mut env)
            } else {
                sf::to_int::<F64>(lane(b, 8, 0), bits, rc, &mut env)
            };
            finish(cpu, &env)?;
            cpu.write_reg(i.dreg, i.size, r);
        }
        _ => {
            let b = xmm::src(cpu, mem, i)?;
            let r = cvt_vec(i.cc, i.ssize, a, b, &mut env);
            finish(cpu, &env)?;
            xmm::set_dst(cpu, i, r);
        }
    }
    Ok(())
}

/// The vector-to-vector conversions: `a` is the destination's old value (kept
/// in the upper lanes of the scalar forms), `b` the source.
pub(crate) fn cvt_vec(kind: u8, ssize: u8, a: u128, b: u128, env: &mut Env) -> u128 {
    let rc = env.rc;
    match kind {
        k::CVT_F2F if ssize == 4 => with_lane(a, 8, 0, sf::convert::<F32, F64>(lane(b, 4, 0), env)),
        k::CVT_F2F => with_lane(a, 4, 0, sf::convert::<F64, F32>(lane(b, 8, 0), env)),
        k::CVT_DQ2PS => build(4, |j| int_to::<F32>(lane(b, 4, j), 4, env)),
        k::CVT_PS2DQ | k::CVTT_PS2DQ => {
            let rc = if kind == k::CVTT_PS2DQ { Rc::Zero } else { rc };
            build(4, |j| sf::to_int::<F32>(lane(b, 4, j), 32, rc, env))
        }
        k::CVT_DQ2PD => build(8, |j| int_to::<F64>(lane(b, 4, j), 4, env)),
        k::CVT_PD2DQ | k::CVTT_PD2DQ => {
            let rc = if kind == k::CVTT_PD2DQ { Rc::Zero } else { rc };
            build(4, |j| {
                if j < 2 {
                    sf::to_int::<F64>(lane(b, 8, j), 32, rc, env)
                } else {
                    0
                }
            })
        }
        k::CVT_PS2PD => build(8, |j| sf::convert::<F32, F64>(lane(b, 4, j), env)),
        _ => build(4, |j| {
            if j < 2 {
                sf::convert::<F64, F32>(lane(b, 8, j), env)
            } else {
                0
            }
        }),
    }
}

/// ROUNDPS/ROUNDSS... on vectors: imm[1:0] is the rounding mode unless imm[2]
/// selects MXCSR.RC; imm[3] suppresses the precision exception.
pub(crate) fn round_vec<F: Format>(imm: u8, packed: bool, a: u128, b: u128, env: &mut Env) -> u128 {
    let w = width::<F>();
    let rc = if imm & 4 != 0 {
        env.rc
    } else {
        Rc::from_bits(imm as u32)
    };
    let suppress = imm & 8 != 0;
    if packed {
        build(w, |j| sf::round_int::<F>(lane(b, w, j), rc, suppress, env))
    } else {
        with_lane(
            a,
            w,
            0,
            sf::round_int::<F>(lane(b, w, 0), rc, suppress, env),
        )
    }
}

/// `roundps` / `roundpd` / `roundss` / `roundsd`.
pub(super) fn round(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = xmm::dst(cpu, i);
    let b = xmm::src(cpu, mem, i)?;
    let mut env = Env::new(cpu.mxcsr);
    let packed = i.size == 16;
    let r = if i.ssize == 4 {
        round_vec::<F32>(i.imm as u8, packed, a, b, &mut env)
    } else {
        round_vec::<F64>(i.imm as u8, packed, a, b, &mut env)
    };
    finish(cpu, &env)?;
    xmm::set_dst(cpu, i, r);
    Ok(())
}

/// DPPS/DPPD on vectors: the products selected by imm[7:4] (others +0), summed
/// pairwise with rounding after each step ((p0 + p1) + (p2 + p3) for DPPS), and
/// written to the lanes selected by imm[3:0] (others +0).
pub(crate) fn dot_vec<F: Format>(imm: u8, a: u128, b: u128, env: &mut Env) -> u128 {
    let w = width::<F>();
    let n = 16 / w;
    let mut p = [0u64; 4];
    for j in 0..n {
        if imm >> (4 + j) & 1 != 0 {
            p[j as usize] = sf::mul::<F>(lane(a, w, j), lane(b, w, j), env);
        }
    }
    let sum = if n == 4 {
        let lo = sf::add::<F>(p[0], p[1], false, env);
        let hi = sf::add::<F>(p[2], p[3], false, env);
        sf::add::<F>(lo, hi, false, env)
    } else {
        sf::add::<F>(p[0], p[1], false, env)
    };
    build(w, |j| if imm >> j & 1 != 0 { sum } else { 0 })
}

/// `dpps` / `dppd`.
pub(super) fn dot(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = xmm::dst(cpu, i);
    let b = xmm::src(cpu, mem, i)?;
    let mut env = Env::new(cpu.mxcsr);
    let r = if i.ssize == 4 {
        dot_vec::<F32>(i.imm as u8, a, b, &mut env)
    } else {
        dot_vec::<F64>(i.imm as u8, a, b, &mut env)
    };
    finish(cpu, &env)?;
    xmm::set_dst(cpu, i, r);
    Ok(())
}

/// `ldmxcsr m32`: reserved bits set fault with #GP.
pub(super) fn ldmxcsr(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = xmm::read_mem(cpu, mem, i, 4, false)? as u32;
    if v & !mx::WRITABLE != 0 {
        return Err(Trap::GeneralProtection {
            reason: "ldmxcsr with reserved MXCSR bits set",
        }
        .into());
    }
    cpu.mxcsr = v;
    Ok(())
}

/// `stmxcsr m32`.
pub(super) fn stmxcsr(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    xmm::write_mem(cpu, mem, i, 4, false, cpu.mxcsr as u128)?;
    Ok(())
}
