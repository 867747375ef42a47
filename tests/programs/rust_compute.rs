// The computation of the Rust test program, shared verbatim by the guest
// (rust_prog.rs, `#![no_std]` + `alloc`, built with the host rustc) and by the
// test (crates/x64vm/tests/programs.rs), which runs it natively for the expected
// result. Only `core` and `alloc` are used, and nothing depends on addresses.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// A 64-bit LCG, the same generator the C programs use.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 17
    }
}

/// FNV-1a over the 8 bytes of `v`.
fn mix(mut h: u64, v: u64) -> u64 {
    for b in v.to_le_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Big enough that rustc copies it with SSE moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Body {
    mass: u64,
    pos: [i64; 3],
    vel: [i64; 3],
    id: u32,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Rock,
    Ice { depth: u16 },
    Gas(u8, u8),
}

fn step(mut b: Body, dt: i64) -> Body {
    for k in 0..3 {
        b.pos[k] = b.pos[k].wrapping_add(b.vel[k].wrapping_mul(dt));
        b.vel[k] -= b.pos[k].signum() * (b.mass as i64 % 7);
    }
    b.kind = match b.kind {
        Kind::Rock => Kind::Ice {
            depth: (b.id % 1000) as u16,
        },
        Kind::Ice { depth } if depth > 500 => Kind::Gas(depth as u8, (depth >> 8) as u8),
        Kind::Ice { depth } => Kind::Ice {
            depth: depth * 2 + 1,
        },
        Kind::Gas(a, b2) => {
            if a.wrapping_add(b2) % 3 == 0 {
                Kind::Rock
            } else {
                Kind::Gas(b2, a)
            }
        }
    };
    b
}

fn bodies(rng: &mut Lcg, n: usize) -> Vec<Body> {
    (0..n)
        .map(|i| Body {
            mass: rng.next() % 1000 + 1,
            pos: [
                rng.next() as i64 % 2000 - 1000,
                rng.next() as i64 % 2000 - 1000,
                0,
            ],
            vel: [rng.next() as i64 % 21 - 10, rng.next() as i64 % 21 - 10, 1],
            id: i as u32,
            kind: match rng.next() % 3 {
                0 => Kind::Rock,
                1 => Kind::Ice {
                    depth: (rng.next() % 600) as u16,
                },
                _ => Kind::Gas(rng.next() as u8, rng.next() as u8),
            },
        })
        .collect()
}

/// A tiny expression evaluator: tokenising, a match-heavy parser, checked arithmetic.
fn eval(expr: &str) -> Option<i64> {
    fn parse_sum(t: &[u8], i: &mut usize) -> Option<i64> {
        let mut v = parse_prod(t, i)?;
        while *i < t.len() {
            match t[*i] {
                b'+' => {
                    *i += 1;
                    v = v.checked_add(parse_prod(t, i)?)?;
                }
                b'-' => {
                    *i += 1;
                    v = v.checked_sub(parse_prod(t, i)?)?;
                }
                _ => break,
            }
        }
        Some(v)
    }
    fn parse_prod(t: &[u8], i: &mut usize) -> Option<i64> {
        let mut v = parse_atom(t, i)?;
        while *i < t.len() {
            match t[*i] {
                b'*' => {
                    *i += 1;
                    v = v.checked_mul(parse_atom(t, i)?)?;
                }
                b'/' => {
                    *i += 1;
                    v = v.checked_div(parse_atom(t, i)?)?;
                }
                b'%' => {
                    *i += 1;
                    v = v.checked_rem(parse_atom(t, i)?)?;
                }
                _ => break,
            }
        }
        Some(v)
    }
    fn parse_atom(t: &[u8], i: &mut usize) -> Option<i64> {
        match *t.get(*i)? {
            b'(' => {
                *i += 1;
                let v = parse_sum(t, i)?;
                (*t.get(*i)? == b')').then(|| *i += 1)?;
                Some(v)
            }
            b'-' => {
                *i += 1;
                parse_atom(t, i)?.checked_neg()
            }
            c if c.is_ascii_digit() => {
                let start = *i;
                while *i < t.len() && t[*i].is_ascii_digit() {
                    *i += 1;
                }
                core::str::from_utf8(&t[start..*i]).ok()?.parse().ok()
            }
            _ => None,
        }
    }
    let t: Vec<u8> = expr.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut i = 0;
    let v = parse_sum(&t, &mut i)?;
    (i == t.len()).then_some(v)
}

/// Returns a checksum and a text report (the guest's output).
pub fn run(seed: u64) -> (u64, String) {
    let mut rng = Lcg(seed);
    let mut h = 0xcbf29ce484222325u64;
    let mut report = String::new();

    // Sorting and searching.
    let mut v: Vec<u32> = (0..2000).map(|_| rng.next() as u32).collect();
    v.sort_unstable();
    h = mix(h, v.windows(2).all(|w| w[0] <= w[1]) as u64);
    h = mix(
        h,
        v.iter()
            .step_by(97)
            .fold(0u64, |a, &x| a.rotate_left(5) ^ x as u64),
    );
    let probe = v[1234];
    h = mix(h, v.binary_search(&probe).is_ok() as u64);
    v.dedup();
    h = mix(h, v.len() as u64);
    let mut words: Vec<i64> = (0..500).map(|_| rng.next() as i64 - (1 << 46)).collect();
    words.sort_by(|a, b| b.cmp(a));
    h = words.iter().fold(h, |h, &w| mix(h, w as u64));

    // Structs by value, enums, ordering of derived types.
    let mut bs = bodies(&mut rng, 64);
    for round in 0..20 {
        for b in bs.iter_mut() {
            *b = step(*b, 1 + round % 3);
        }
    }
    bs.sort();
    for b in &bs {
        h = mix(
            h,
            b.pos[0] as u64 ^ (b.pos[1] as u64).rotate_left(21) ^ b.vel[2] as u64,
        );
    }
    let heavy = bs.iter().max_by_key(|b| (b.mass, b.id)).copied();
    let _ = writeln!(
        report,
        "heaviest={:?}",
        heavy.map(|b| (b.id, b.mass, b.kind))
    );

    // Maps.
    let mut counts: BTreeMap<u64, u32> = BTreeMap::new();
    for _ in 0..3000 {
        *counts.entry(rng.next() % 257).or_insert(0) += 1;
    }
    let (mode, freq) = counts
        .iter()
        .max_by_key(|&(k, c)| (*c, *k))
        .map(|(k, c)| (*k, *c))
        .unwrap_or((0, 0));
    let _ = writeln!(report, "keys={} mode={} freq={}", counts.len(), mode, freq);
    h = counts
        .range(10..60)
        .fold(h, |h, (k, c)| mix(h, k * 1000 + *c as u64));

    // 128-bit arithmetic and integer helpers.
    let mut acc: u128 = seed as u128 | 1;
    for i in 0..200u32 {
        let m = rng.next() as u128 | ((rng.next() as u128) << 64) | 1;
        acc = acc.wrapping_mul(m) ^ (acc >> (i % 127));
        let d = (rng.next() >> (i % 40)) | 1;
        let q = acc / d as u128;
        let r = acc % d as u128;
        h = mix(h, q as u64 ^ (q >> 64) as u64 ^ r as u64);
        let s = acc as i128;
        h = mix(h, (s / -(d as i128)) as u64);
        h = mix(
            h,
            (acc.leading_zeros() + acc.trailing_zeros() * 3 + acc.count_ones() * 7) as u64,
        );
    }
    let x = rng.next() | (1 << 63);
    h = mix(
        h,
        x.checked_mul(3).is_none() as u64 + (x.saturating_add(x) == u64::MAX) as u64 * 2,
    );
    h = mix(
        h,
        (x as i64).wrapping_abs() as u64 ^ (x as i32).signum() as u64,
    );
    h = mix(h, x.reverse_bits() ^ x.swap_bytes() ^ (x.isqrt() << 1));
    let _ = writeln!(
        report,
        "acc={:#x} x={:o} {:>12}|{:<8}|{:^+9}|{:08b}",
        acc, x, -42i64, 7u8, 99, 5u8
    );

    // Text: UTF-8, case mapping tables, parsing, formatting.
    let text = "Grüße, Ωmega! Straße №42 — ǅemal ΣΑΣ ﬁ 12345 -678 0x1f";
    let upper: String = text.chars().flat_map(|c| c.to_uppercase()).collect();
    let lower: String = text.chars().flat_map(|c| c.to_lowercase()).collect();
    h = upper
        .bytes()
        .chain(lower.bytes())
        .fold(h, |h, b| mix(h, b as u64));
    let nums: i64 = text
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .filter_map(|w| w.parse::<i64>().ok())
        .sum();
    let alpha = text.chars().filter(|c| c.is_alphabetic()).count();
    let _ = writeln!(
        report,
        "{}\n{}\nnums={} alpha={} len={}",
        upper,
        lower,
        nums,
        alpha,
        text.len()
    );
    // Long strings take core's word-at-a-time (vectorised) character counting.
    let long = upper.repeat(7) + &lower;
    h = mix(h, long.chars().count() as u64);
    h = mix(
        h,
        long[1..].chars().rev().filter(|c| c.is_uppercase()).count() as u64,
    );
    h = mix(h, long.bytes().filter(|&b| b == b'E').count() as u64);
    h = mix(h, long.matches("SS").count() as u64);
    if let Some(p) = text.find("Straße") {
        h = mix(h, p as u64);
    }
    h = mix(
        h,
        text.char_indices()
            .filter(|(_, c)| !c.is_ascii())
            .map(|(i, _)| i as u64)
            .sum(),
    );

    for e in [
        "1+2*3",
        "(7-10)*(2+5)%4",
        "-(3*(2+-8))/2",
        "9223372036854775807+1",
        "1/0",
        "2*(3",
    ] {
        let r = eval(e);
        let _ = writeln!(report, "{e} = {r:?}");
        h = mix(h, r.map_or(u64::MAX, |v| v as u64));
    }
    (h, report)
}
