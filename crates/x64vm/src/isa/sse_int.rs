//! Packed-integer SSE arithmetic beyond `padd`/`psub` (saturating arithmetic,
//! multiplies, averages, min/max, signs, horizontal ops, packs, `mpsadbw`),
//! `pabs`, `phminposuw`, `ptest` and SSE4.2 `crc32`.

use super::xmm::{self, build, lane};
use super::{ExecResult, read};
use crate::cpu::{Cpu, flag, sext};
use crate::ir::{Inst, sse_kind as k};
use crate::mem::Memory;

/// Clamps a signed value to `w` bytes.
#[inline(always)]
fn sat_s(v: i64, w: u32) -> u64 {
    let max = (1i64 << (w * 8 - 1)) - 1;
    v.clamp(-max - 1, max) as u64
}

/// Clamps a signed value to the unsigned range of `w` bytes.
#[inline(always)]
fn sat_u(v: i64, w: u32) -> u64 {
    v.clamp(0, (1i64 << (w * 8)) - 1) as u64
}

/// Signed lane.
#[inline(always)]
fn slane(v: u128, w: u32, j: u32) -> i64 {
    sext(lane(v, w, j), w as u8)
}

/// The horizontal ops: lane `j` of the result combines two adjacent lanes of
/// `a` (first half of the result) or `b` (second half).
fn horizontal(a: u128, b: u128, w: u32, f: impl Fn(i64, i64) -> u64) -> u128 {
    let n = 16 / w;
    build(w, |j| {
        let (v, e) = if j < n / 2 {
            (a, 2 * j)
        } else {
            (b, 2 * (j - n / 2))
        };
        f(slane(v, w, e), slane(v, w, e + 1))
    })
}

/// Packs the signed lanes of `w` bytes of `a` then `b` into lanes of `w / 2`
/// bytes with `sat`.
fn pack(a: u128, b: u128, w: u32, sat: impl Fn(i64, u32) -> u64) -> u128 {
    let n = 16 / w;
    build(w / 2, |j| {
        let x = if j < n {
            slane(a, w, j)
        } else {
            slane(b, w, j - n)
        };
        sat(x, w / 2)
    })
}

/// `f` on each pair of unsigned `w`-byte lanes.
#[inline(always)]
fn map2(a: u128, b: u128, w: u32, f: impl Fn(u64, u64) -> u64) -> u128 {
    build(w, |j| f(lane(a, w, j), lane(b, w, j)))
}

/// `f` on each pair of signed `w`-byte lanes.
#[inline(always)]
fn smap2(a: u128, b: u128, w: u32, f: impl Fn(i64, i64) -> u64) -> u128 {
    build(w, |j| f(slane(a, w, j), slane(b, w, j)))
}

/// The `PackedIntBinary` operations on vectors (`a` destination, `b` source).
pub(crate) fn binary_vec(kind: u8, w: u32, imm: u8, a: u128, b: u128) -> u128 {
    let bits = w * 8;
    match kind {
        k::ADDS => smap2(a, b, w, |x, y| sat_s(x + y, w)),
        k::ADDUS => map2(a, b, w, |x, y| sat_u((x + y) as i64, w)),
        k::SUBS => smap2(a, b, w, |x, y| sat_s(x - y, w)),
        k::SUBUS => map2(a, b, w, |x, y| x.saturating_sub(y)),
        k::MULLO => map2(a, b, w, |x, y| x.wrapping_mul(y)),
        k::MULHI => smap2(a, b, w, |x, y| ((x * y) >> bits) as u64),
        k::MULHU => map2(a, b, w, |x, y| (x * y) >> bits),
        k::MULHRS => smap2(a, b, w, |x, y| ((((x * y) >> 14) + 1) >> 1) as u64),
        k::MULUDQ => build(8, |j| lane(a, 4, 2 * j) * lane(b, 4, 2 * j)),
        k::MULDQ => build(8, |j| (slane(a, 4, 2 * j) * slane(b, 4, 2 * j)) as u64),
        k::MADDWD => build(4, |j| {
            let p0 = slane(a, 2, 2 * j) * slane(b, 2, 2 * j);
            let p1 = slane(a, 2, 2 * j + 1) * slane(b, 2, 2 * j + 1);
            (p0 + p1) as u64
        }),
        k::MADDUBSW => build(2, |j| {
            let p0 = lane(a, 1, 2 * j) as i64 * slane(b, 1, 2 * j);
            let p1 = lane(a, 1, 2 * j + 1) as i64 * slane(b, 1, 2 * j + 1);
            sat_s(p0 + p1, 2)
        }),
        k::SADBW => build(8, |j| {
            (0..8)
                .map(|e| lane(a, 1, 8 * j + e).abs_diff(lane(b, 1, 8 * j + e)))
                .sum()
        }),
        k::AVG => map2(a, b, w, |x, y| (x + y + 1) >> 1),
        k::MINU => map2(a, b, w, |x, y| x.min(y)),
        k::MAXU => map2(a, b, w, |x, y| x.max(y)),
        k::MINS => smap2(a, b, w, |x, y| x.min(y) as u64),
        k::MAXS => smap2(a, b, w, |x, y| x.max(y) as u64),
        k::SIGN => smap2(a, b, w, |x, y| match y.signum() {
            -1 => x.wrapping_neg() as u64,
            0 => 0,
            _ => x as u64,
        }),
        k::PHADD => horizontal(a, b, w, |x, y| (x + y) as u64),
        k::PHADDS => horizontal(a, b, w, |x, y| sat_s(x + y, w)),
        k::PHSUB => horizontal(a, b, w, |x, y| (x - y) as u64),
        k::PHSUBS => horizontal(a, b, w, |x, y| sat_s(x - y, w)),
        k::PACKSS => pack(a, b, w, sat_s),
        k::PACKUS => pack(a, b, w, sat_u),
        _ => {
            // MPSADBW: eight sums of absolute differences of 4-byte windows.
            let (o1, o2) = (((imm >> 2) & 1) as u32 * 4, (imm & 3) as u32 * 4);
            build(2, |j| {
                (0..4)
                    .map(|e| lane(a, 1, o1 + j + e).abs_diff(lane(b, 1, o2 + e)))
                    .sum()
            })
        }
    }
}

/// `paddsb`, `pmulhw`, `pmaxud`, `packuswb`, `phaddw`, ... (selector in `cc`,
/// lane size in `ssize`).
pub(super) fn binary(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = xmm::dst(cpu, i);
    let b = xmm::src(cpu, mem, i)?;
    xmm::set_dst(cpu, i, binary_vec(i.cc, i.ssize as u32, i.imm as u8, a, b));
    Ok(())
}

/// PABS and PHMINPOSUW on a vector.
pub(crate) fn unary_vec(kind: u8, w: u32, b: u128) -> u128 {
    if kind == k::ABS {
        return build(w, |j| slane(b, w, j).unsigned_abs());
    }
    let (mut min, mut at) = (lane(b, 2, 0), 0u32);
    for j in 1..8 {
        if lane(b, 2, j) < min {
            min = lane(b, 2, j);
            at = j;
        }
    }
    min as u128 | (at as u128) << 16
}

/// `pabsb` / `pabsw` / `pabsd` / `phminposuw`.
pub(super) fn unary(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let b = xmm::src(cpu, mem, i)?;
    xmm::set_dst(cpu, i, unary_vec(i.cc, i.ssize as u32, b));
    Ok(())
}

/// `ptest`: ZF = (a AND b) == 0, CF = (NOT a AND b) == 0, other flags cleared.
pub(super) fn ptest(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = xmm::dst(cpu, i);
    let b = xmm::src(cpu, mem, i)?;
    let zf = if a & b == 0 { flag::ZF } else { 0 };
    let cf = if !a & b == 0 { flag::CF } else { 0 };
    cpu.set_status(zf | cf);
    Ok(())
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) byte table.
const CRC32C: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut b = 0;
        while b < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
            b += 1;
        }
        t[n] = c;
        n += 1;
    }
    t
};

/// Updates a CRC-32C value with the low `bytes` bytes of `v` (little-endian), as
/// the `crc32` instruction does: no initial or final inversion.
pub(crate) fn crc32c(mut crc: u32, v: u64, bytes: u8) -> u32 {
    for j in 0..bytes {
        let b = (v >> (8 * j)) as u8;
        crc = (crc >> 8) ^ CRC32C[((crc as u8) ^ b) as usize];
    }
    crc
}

/// `crc32 r32/r64, r/m8/16/32/64` (source size in `ssize`).
pub(super) fn crc32(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = read(cpu, mem, i, i.src, i.sreg, i.ssize)?;
    let crc = crc32c(cpu.read_reg(i.dreg, 4) as u32, v, i.ssize);
    cpu.write_reg(i.dreg, 8, crc as u64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        // The standard check value of CRC-32C over "123456789".
        let crc = b"123456789"
            .iter()
            .fold(!0u32, |c, &b| crc32c(c, b as u64, 1));
        assert_eq!(!crc, 0xe306_9283);
    }

    #[test]
    fn saturating_and_multiplies() {
        let a = 0x7fff_8000_0001_fffeu128;
        let b = 0x0001_ffff_ffff_0003u128;
        assert_eq!(
            binary_vec(k::ADDS, 2, 0, a, b) as u64,
            0x7fff_8000_0000_0001
        );
        assert_eq!(
            binary_vec(k::ADDUS, 2, 0, a, b) as u64,
            0x8000_ffff_ffff_ffff
        );
        assert_eq!(binary_vec(k::MULHRS, 2, 0, 0x4000, 0x4000) as u16, 0x2000);
        assert_eq!(
            binary_vec(k::PACKSS, 2, 0, 0x0100_ff80_007f_8000, 0) as u32,
            0x7f80_7f80
        );
    }
}
