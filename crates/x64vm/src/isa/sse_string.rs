//! SSE4.2 packed string compares: `pcmpestri`, `pcmpestrm`, `pcmpistri`,
//! `pcmpistrm`. The memory operand has no alignment requirement.

use super::ExecResult;
use super::xmm::{self, build, lane};
use crate::cpu::{Cpu, flag, reg, sext};
use crate::ir::{Inst, sse_kind as k};
use crate::mem::Memory;

/// Result of the comparison core: the final bit vector and the flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StrResult {
    /// IntRes2: one bit per element.
    pub bits: u32,
    /// RFLAGS status bits (CF, ZF, SF, OF; AF and PF cleared).
    pub flags: u64,
}

/// Number of elements of a string operand: the index of its first zero
/// element (implicit length) or the absolute value of `len` saturated to `n`.
fn length(v: u128, w: u32, n: u32, explicit: Option<i64>) -> u32 {
    match explicit {
        Some(l) => l.unsigned_abs().min(n as u64) as u32,
        None => (0..n).find(|&j| lane(v, w, j) == 0).unwrap_or(n),
    }
}

/// The comparison core. `a` is the first operand (the set, range list or
/// needle), `b` the second; `la`/`lb` are their explicit lengths for the
/// `pcmpestr*` forms.
pub(crate) fn pcmpstr(a: u128, b: u128, imm: u8, la: Option<i64>, lb: Option<i64>) -> StrResult {
    let w = if imm & 1 != 0 { 2 } else { 1 };
    let n = 16 / w;
    let signed = imm & 2 != 0;
    let elem = |v: u128, j: u32| {
        let x = lane(v, w, j);
        if signed { sext(x, w as u8) } else { x as i64 }
    };
    let la = length(a, w, n, la);
    let lb = length(b, w, n, lb);
    let mut res1 = 0u32;
    for i in 0..n {
        let bi_valid = i < lb;
        let hit = match (imm >> 2) & 3 {
            // Equal any: b[i] is one of a's valid elements.
            0 => bi_valid && (0..la).any(|j| elem(a, j) == elem(b, i)),
            // Ranges: a holds (low, high) pairs.
            1 => {
                bi_valid
                    && (0..n / 2).any(|p| {
                        let (lo, hi) = (2 * p, 2 * p + 1);
                        hi < la && elem(a, lo) <= elem(b, i) && elem(b, i) <= elem(a, hi)
                    })
            }
            // Equal each: element-wise equality; two invalid elements match.
            2 => match (i < la, bi_valid) {
                (true, true) => elem(a, i) == elem(b, i),
                (false, false) => true,
                _ => false,
            },
            // Equal ordered: a (the needle) starts at b[i]; an invalid needle
            // element matches anything.
            _ => (0..n - i).all(|k| match (k < la, i + k < lb) {
                (false, _) => true,
                (true, false) => false,
                (true, true) => elem(a, k) == elem(b, i + k),
            }),
        };
        res1 |= (hit as u32) << i;
    }
    let all = (1u32 << n) - 1;
    let valid_b = (1u32 << lb) - 1;
    let res2 = match (imm >> 4) & 3 {
        1 => !res1 & all,
        3 => res1 ^ valid_b,
        _ => res1,
    };
    let mut flags = 0;
    if res2 != 0 {
        flags |= flag::CF;
    }
    if lb < n {
        flags |= flag::ZF;
    }
    if la < n {
        flags |= flag::SF;
    }
    if res2 & 1 != 0 {
        flags |= flag::OF;
    }
    StrResult { bits: res2, flags }
}

/// The index output of `pcmp*stri`: lowest (or, with imm bit 6, highest) set
/// bit, or the element count when none is set.
pub(crate) fn str_index(bits: u32, imm: u8) -> u32 {
    let n = if imm & 1 != 0 { 8 } else { 16 };
    if bits == 0 {
        n
    } else if imm & 0x40 != 0 {
        31 - bits.leading_zeros()
    } else {
        bits.trailing_zeros()
    }
}

/// The mask output of `pcmp*strm`: the bits zero-extended, or (imm bit 6) each
/// bit expanded to a whole element.
pub(crate) fn str_mask(bits: u32, imm: u8) -> u128 {
    if imm & 0x40 == 0 {
        return bits as u128;
    }
    let w = if imm & 1 != 0 { 2 } else { 1 };
    build(w, |j| if bits >> j & 1 != 0 { u64::MAX } else { 0 })
}

/// `pcmpestri` / `pcmpestrm` / `pcmpistri` / `pcmpistrm` (cc: [`k::STR_EXPLICIT`],
/// [`k::STR_MASK`]; `ssize` 8 when REX.W widens the length registers).
pub(super) fn pcmpstr_op(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = xmm::dst(cpu, i);
    let b = xmm::src_unaligned(cpu, mem, i)?;
    let imm = i.imm as u8;
    let (la, lb) = if i.cc & k::STR_EXPLICIT != 0 {
        let len = |r: usize| {
            let v = cpu.gpr[r];
            if i.ssize == 8 {
                v as i64
            } else {
                v as i32 as i64
            }
        };
        (Some(len(reg::RAX)), Some(len(reg::RDX)))
    } else {
        (None, None)
    };
    let r = pcmpstr(a, b, imm, la, lb);
    if i.cc & k::STR_MASK != 0 {
        cpu.xmm[0] = str_mask(r.bits, imm);
    } else {
        cpu.write_reg(reg::RCX as u8, 4, str_index(r.bits, imm) as u64);
    }
    cpu.set_status(r.flags);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &[u8]) -> u128 {
        let mut b = [0u8; 16];
        b[..text.len()].copy_from_slice(text);
        u128::from_le_bytes(b)
    }

    #[test]
    fn strlen_and_strchr_idioms() {
        // pcmpistri with equal-each and a zero needle finds the terminator.
        let r = pcmpstr(0, s(b"hello"), 0x08, None, None);
        assert_eq!(str_index(r.bits, 0x08), 5);
        // Equal any: first of "lo" in "hello".
        let r = pcmpstr(s(b"lo"), s(b"hello"), 0x00, None, None);
        assert_eq!(str_index(r.bits, 0), 2);
        assert!(r.flags & flag::ZF != 0 && r.flags & flag::CF != 0);
        // Equal ordered: substring "llo".
        let r = pcmpstr(s(b"llo"), s(b"hello"), 0x0c, None, None);
        assert_eq!(str_index(r.bits, 0x0c), 2);
        // Ranges: 'a'..'z' in "AbC".
        let r = pcmpstr(s(b"az"), s(b"AbC"), 0x04, None, None);
        assert_eq!(r.bits, 0b010);
    }
}
