//! Pure x87 arithmetic on 80-bit values: classification, x87's NaN rules, the
//! one rounding step every result goes through (rounding control, precision
//! control, overflow, underflow, the C1 "rounded up" bit), the basic operations,
//! conversions to and from memory formats and integers, compares, and the
//! exact operations `frndint`, `fscale`, `fxtract`, `fprem`/`fprem1`.
//!
//! Nothing here uses host floating point. Addition, subtraction, multiplication
//! and division are computed by `rustc_apfloat` in a wide format (110-bit
//! significand, 17-bit exponent: no operation on 80-bit values can overflow or
//! underflow it) with round-to-odd (truncate, then OR the inexact flag into the
//! last bit), then rounded once here to 24, 53 or 64 bits. Round-to-odd with
//! more than two extra bits makes the second rounding correct in every mode.

use rustc_apfloat::ieee::{IeeeFloat, Semantics};
use rustc_apfloat::{Float, Round, Status};

use crate::cpu_x87::{F80, sw};

/// Rounding control (control word bits 11..10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rc {
    /// Round to nearest, ties to even.
    Nearest,
    /// Toward negative infinity.
    Down,
    /// Toward positive infinity.
    Up,
    /// Toward zero.
    Zero,
}

impl Rc {
    /// The rounding mode selected by a control word.
    pub fn from_cw(cw: u16) -> Rc {
        match (cw >> 10) & 3 {
            0 => Rc::Nearest,
            1 => Rc::Down,
            2 => Rc::Up,
            _ => Rc::Zero,
        }
    }
}

/// Significand bits selected by precision control (control word bits 9..8):
/// 00 single (24), 10 double (53), 11 extended (64); the reserved 01 acts as 64.
pub fn pc_bits(cw: u16) -> u32 {
    match (cw >> 8) & 3 {
        0 => 24,
        2 => 53,
        _ => 64,
    }
}

/// A destination format: significand bits and exponent range (of normal numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fmt {
    /// Significand bits, including the integer bit.
    pub prec: u32,
    /// Exponent of the smallest normal number.
    pub emin: i32,
    /// Exponent of the largest finite number.
    pub emax: i32,
}

/// 80-bit extended.
pub const EXT: Fmt = Fmt {
    prec: 64,
    emin: -16382,
    emax: 16383,
};
/// binary64.
pub const DBL: Fmt = Fmt {
    prec: 53,
    emin: -1022,
    emax: 1023,
};
/// binary32.
pub const SGL: Fmt = Fmt {
    prec: 24,
    emin: -126,
    emax: 127,
};

impl Fmt {
    /// The extended format with its significand cut to `prec` bits (precision control).
    pub fn ext(prec: u32) -> Fmt {
        Fmt { prec, ..EXT }
    }
}

/// What an operation needs from the control word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ctx {
    /// Rounding mode.
    pub rc: Rc,
    /// Significand bits of results of +, -, *, / and sqrt.
    pub prec: u32,
}

impl Ctx {
    /// From a control word.
    pub fn from_cw(cw: u16) -> Ctx {
        Ctx {
            rc: Rc::from_cw(cw),
            prec: pc_bits(cw),
        }
    }
}

/// A result: the value, the exception flags raised (status-word bits) and whether
/// the significand was rounded up (C1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Res {
    /// The value.
    pub v: F80,
    /// Exception flags (`sw::IE` ... `sw::PE`).
    pub exc: u16,
    /// Rounded up in magnitude.
    pub up: bool,
}

impl Res {
    /// An exact result with flags.
    pub fn exact(v: F80, exc: u16) -> Res {
        Res { v, exc, up: false }
    }

    /// The invalid-operation result: IE and the real indefinite.
    pub fn invalid() -> Res {
        Res::exact(F80::INDEFINITE, sw::IE)
    }
}

/// The class of an 80-bit pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// ±0.
    Zero,
    /// Exponent field 0, significand non-zero (including pseudo-denormals, whose
    /// integer bit is set; they are valid operands with the value of exponent 1).
    Denormal,
    /// A normal number.
    Normal,
    /// ±infinity.
    Inf,
    /// Quiet NaN.
    QNan,
    /// Signalling NaN.
    SNan,
    /// Pseudo-NaN, pseudo-infinity or unnormal: invalid as an operand.
    Unsupported,
}

/// Classifies a pattern.
pub fn classify(x: F80) -> Class {
    let int = x.mant >> 63 != 0;
    match x.exp() {
        0 if x.mant == 0 => Class::Zero,
        0 => Class::Denormal,
        0x7fff if !int => Class::Unsupported,
        0x7fff if x.mant << 1 == 0 => Class::Inf,
        0x7fff if x.mant & (1 << 62) != 0 => Class::QNan,
        0x7fff => Class::SNan,
        _ if int => Class::Normal,
        _ => Class::Unsupported,
    }
}

impl Class {
    /// QNaN or SNaN.
    pub fn is_nan(self) -> bool {
        matches!(self, Class::QNan | Class::SNan)
    }

    /// A finite non-zero number.
    pub fn is_finite_nonzero(self) -> bool {
        matches!(self, Class::Normal | Class::Denormal)
    }
}

/// ±0.
pub fn zero(sign: bool) -> F80 {
    F80 {
        mant: 0,
        se: (sign as u16) << 15,
    }
}

/// ±infinity.
pub fn inf(sign: bool) -> F80 {
    F80 {
        mant: 1 << 63,
        se: (sign as u16) << 15 | 0x7fff,
    }
}

/// `x` with its quiet bit set.
pub fn quiet(x: F80) -> F80 {
    F80 {
        mant: x.mant | 1 << 62,
        se: x.se,
    }
}

/// `x` with its sign replaced.
pub fn with_sign(x: F80, sign: bool) -> F80 {
    F80 {
        mant: x.mant,
        se: (x.se & 0x7fff) | (sign as u16) << 15,
    }
}

/// The result when an operand is a NaN (and none is unsupported): IE if any is
/// signalling; with one NaN it is returned quieted; with two, a QNaN beats an
/// SNaN, otherwise the larger significand wins (on a tie, the first operand).
pub fn nan2(a: F80, b: F80) -> Res {
    let (ca, cb) = (classify(a), classify(b));
    let exc = if ca == Class::SNan || cb == Class::SNan {
        sw::IE
    } else {
        0
    };
    let pick = match (ca.is_nan(), cb.is_nan()) {
        (true, false) => a,
        (false, true) => b,
        _ => match (ca, cb) {
            (Class::SNan, Class::QNan) => b,
            (Class::QNan, Class::SNan) => a,
            _ if b.mant > a.mant => b,
            _ => a,
        },
    };
    Res::exact(quiet(pick), exc)
}

/// The result of a one-operand operation on a NaN or unsupported operand, if it is one.
pub fn special1(a: F80) -> Option<Res> {
    match classify(a) {
        Class::Unsupported => Some(Res::invalid()),
        Class::SNan => Some(Res::exact(quiet(a), sw::IE)),
        Class::QNan => Some(Res::exact(a, 0)),
        _ => None,
    }
}

/// The result of a two-operand operation on NaN or unsupported operands, if any.
pub fn special2(a: F80, b: F80) -> Option<Res> {
    let (ca, cb) = (classify(a), classify(b));
    if ca == Class::Unsupported || cb == Class::Unsupported {
        Some(Res::invalid())
    } else if ca.is_nan() || cb.is_nan() {
        Some(nan2(a, b))
    } else {
        None
    }
}

/// DE if any of the classes is a denormal.
fn de(cs: &[Class]) -> u16 {
    if cs.contains(&Class::Denormal) {
        sw::DE
    } else {
        0
    }
}

/// A finite non-zero value: `sig × 2^(exp - 63)` with bit 63 of `sig` set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fin {
    /// Sign.
    pub sign: bool,
    /// Exponent of the integer bit.
    pub exp: i32,
    /// Normalised significand.
    pub sig: u64,
}

/// Unpacks a normal or denormal value (pseudo-denormals count as exponent 1).
pub fn unpack(x: F80) -> Fin {
    let e = if x.exp() == 0 {
        -16382
    } else {
        x.exp() as i32 - 16383
    };
    let lz = x.mant.leading_zeros();
    Fin {
        sign: x.sign(),
        exp: e - lz as i32,
        sig: x.mant << lz,
    }
}

/// An unrounded value: `sig × 2^(exp - 127)`, bit 127 of `sig` set; bit 0 may be
/// a sticky bit standing for lower non-zero bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exact {
    /// Sign.
    pub sign: bool,
    /// Exponent of the leading bit.
    pub exp: i32,
    /// Normalised significand with sticky bit.
    pub sig: u128,
}

impl From<Fin> for Exact {
    fn from(f: Fin) -> Exact {
        Exact {
            sign: f.sign,
            exp: f.exp,
            sig: (f.sig as u128) << 64,
        }
    }
}

impl Exact {
    /// Normalises a non-zero magnitude `m × 2^e` (sticky bit in `sticky`).
    pub fn from_parts(sign: bool, m: u128, e: i32, sticky: bool) -> Exact {
        let lz = m.leading_zeros();
        Exact {
            sign,
            exp: e + 127 - lz as i32,
            sig: (m << lz) | sticky as u128,
        }
    }
}

/// Shifts right, ORing the lost bits into bit 0.
fn shr_sticky(x: u128, n: u32) -> u128 {
    match n {
        0 => x,
        1..=127 => (x >> n) | ((x & ((1u128 << n) - 1)) != 0) as u128,
        _ => (x != 0) as u128,
    }
}

/// A rounded finite result or a special.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounded {
    /// ±0.
    Zero,
    /// `sig × 2^(exp - 63)`; bit 63 set for a normal, clear for a denormal (then
    /// `exp` is the format's `emin`).
    Fin {
        /// Exponent.
        exp: i32,
        /// Significand, left-aligned.
        sig: u64,
    },
    /// ±infinity.
    Inf,
}

/// The outcome of [`round`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundOut {
    /// Sign.
    pub sign: bool,
    /// Value.
    pub r: Rounded,
    /// PE, UE, OE as raised (masked responses).
    pub exc: u16,
    /// Rounded up in magnitude (C1).
    pub up: bool,
}

/// Rounds `x` to format `f` with mode `rc`: denormalises below `emin`, raises PE
/// when inexact, UE when the result is tiny (after rounding, as x86 detects it)
/// and inexact, OE on overflow (then infinity or the largest finite number, as
/// the rounding direction says).
pub fn round(x: Exact, f: Fmt, rc: Rc) -> RoundOut {
    let Exact {
        sign,
        mut exp,
        mut sig,
    } = x;
    let drop = 128 - f.prec;
    let step = |sig: u128| {
        let rem = sig & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        let kept = sig >> drop;
        let inexact = rem != 0;
        let inc = match rc {
            Rc::Nearest => rem > half || (rem == half && kept & 1 == 1),
            Rc::Up => inexact && !sign,
            Rc::Down => inexact && sign,
            Rc::Zero => false,
        };
        (kept, inexact, inc)
    };
    // Tiny after rounding: below 2^emin once rounded to `prec` bits with an
    // unbounded exponent.
    let tiny = exp < f.emin && {
        let (kept, _, inc) = step(sig);
        !(exp == f.emin - 1 && inc && kept + 1 == 1u128 << f.prec)
    };
    if exp < f.emin {
        sig = shr_sticky(sig, (f.emin - exp).min(200) as u32);
        exp = f.emin;
    }
    let (kept, inexact, inc) = step(sig);
    let mut m = kept + inc as u128;
    if m >> f.prec != 0 {
        m >>= 1;
        exp += 1;
    }
    let mut exc = 0;
    if inexact {
        exc |= sw::PE;
        if tiny {
            exc |= sw::UE;
        }
    }
    if m != 0 && exp > f.emax {
        exc |= sw::OE | sw::PE;
        let to_inf = match rc {
            Rc::Nearest => true,
            Rc::Up => !sign,
            Rc::Down => sign,
            Rc::Zero => false,
        };
        return if to_inf {
            RoundOut {
                sign,
                r: Rounded::Inf,
                exc,
                up: true,
            }
        } else {
            let sig = (((1u128 << f.prec) - 1) << (64 - f.prec)) as u64;
            RoundOut {
                sign,
                r: Rounded::Fin { exp: f.emax, sig },
                exc,
                up: false,
            }
        };
    }
    let r = if m == 0 {
        Rounded::Zero
    } else {
        Rounded::Fin {
            exp,
            sig: (m << (64 - f.prec)) as u64,
        }
    };
    RoundOut {
        sign,
        r,
        exc,
        up: inc,
    }
}

/// Packs a rounded extended result.
pub fn pack80(o: &RoundOut) -> F80 {
    match o.r {
        Rounded::Zero => zero(o.sign),
        Rounded::Inf => inf(o.sign),
        Rounded::Fin { exp, sig } => {
            let e = if sig >> 63 == 0 {
                0
            } else {
                (exp + 16383) as u16
            };
            F80 {
                mant: sig,
                se: (o.sign as u16) << 15 | e,
            }
        }
    }
}

/// Rounds to the extended format with `prec` significand bits.
pub fn round80(x: Exact, prec: u32, rc: Rc) -> Res {
    let o = round(x, Fmt::ext(prec), rc);
    Res {
        v: pack80(&o),
        exc: o.exc,
        up: o.up,
    }
}

// ---- The wide format used to compute +, -, *, / exactly enough ----

/// 110-bit significand, 17-bit exponent: products and quotients of any two
/// 80-bit values (denormals included) are normal numbers in it.
struct WideS;
impl Semantics for WideS {
    const BITS: usize = 127;
    const EXP_BITS: usize = 17;
}
type W = IeeeFloat<WideS>;
const WBIAS: i32 = 65535;
const WFRAC: u32 = 109;

fn to_w(f: Fin) -> W {
    let frac = ((f.sig as u128) << (WFRAC - 63)) & ((1u128 << WFRAC) - 1);
    W::from_bits((f.sign as u128) << 126 | ((f.exp + WBIAS) as u128) << WFRAC | frac)
}

/// The value of a wide result, with the inexact flag as sticky bit (round to odd).
/// `None` for zero.
fn from_w(r: rustc_apfloat::StatusAnd<W>) -> Option<Exact> {
    let w = r.value;
    if w.is_zero() {
        return None;
    }
    debug_assert!(w.is_normal());
    let b = w.to_bits();
    let be = ((b >> WFRAC) & 0x1ffff) as i32;
    let frac = b & ((1u128 << WFRAC) - 1);
    Some(Exact {
        sign: b >> 126 & 1 != 0,
        exp: be - WBIAS,
        sig: 1u128 << 127 | frac << (127 - WFRAC) | r.status.contains(Status::INEXACT) as u128,
    })
}

/// The four basic operations, with the operand order of the instruction
/// (`SubR`: `b - a`, `DivR`: `b / a`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// a + b.
    Add,
    /// a * b.
    Mul,
    /// a - b.
    Sub,
    /// b - a.
    SubR,
    /// a / b.
    Div,
    /// b / a.
    DivR,
}

impl BinOp {
    /// From the x87 opcode's reg field (0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr).
    pub fn from_digit(d: u8) -> BinOp {
        match d {
            0 => BinOp::Add,
            1 => BinOp::Mul,
            4 => BinOp::Sub,
            5 => BinOp::SubR,
            6 => BinOp::Div,
            _ => BinOp::DivR,
        }
    }
}

/// `a op b` with x87 semantics (NaN rules, invalid cases, precision and rounding
/// control, flags).
pub fn arith(op: BinOp, a: F80, b: F80, c: Ctx) -> Res {
    if let Some(r) = special2(a, b) {
        return r;
    }
    let (x, y, op) = match op {
        BinOp::SubR => (b, a, BinOp::Sub),
        BinOp::DivR => (b, a, BinOp::Div),
        _ => (a, b, op),
    };
    let (cx, cy) = (classify(x), classify(y));
    let d = de(&[cx, cy]);
    let with = |mut r: Res| {
        r.exc |= d;
        r
    };
    let (sx, sy) = (x.sign(), y.sign() ^ (op == BinOp::Sub));
    let wide = |op: BinOp, fx: Fin, fy: Fin| {
        let (wx, wy) = (to_w(fx), to_w(fy));
        let z = Round::TowardZero;
        from_w(match op {
            BinOp::Mul => wx.mul_r(wy, z),
            BinOp::Div => wx.div_r(wy, z),
            _ => wx.add_r(wy, z),
        })
    };
    use Class::*;
    match op {
        BinOp::Add | BinOp::Sub => match (cx, cy) {
            (Inf, Inf) if sx != sy => Res::invalid(),
            (Inf, _) => with(Res::exact(inf(sx), 0)),
            (_, Inf) => with(Res::exact(inf(sy), 0)),
            (Zero, Zero) => Res::exact(zero(if sx == sy { sx } else { c.rc == Rc::Down }), 0),
            (Zero, _) => with(round80(
                Fin {
                    sign: sy,
                    ..unpack(y)
                }
                .into(),
                c.prec,
                c.rc,
            )),
            (_, Zero) => with(round80(unpack(x).into(), c.prec, c.rc)),
            _ => {
                let fy = Fin {
                    sign: sy,
                    ..unpack(y)
                };
                match wide(BinOp::Add, unpack(x), fy) {
                    Some(e) => with(round80(e, c.prec, c.rc)),
                    None => with(Res::exact(zero(c.rc == Rc::Down), 0)),
                }
            }
        },
        BinOp::Mul => {
            let s = sx ^ y.sign();
            match (cx, cy) {
                (Inf, Zero) | (Zero, Inf) => Res::invalid(),
                (Inf, _) | (_, Inf) => with(Res::exact(inf(s), 0)),
                (Zero, _) | (_, Zero) => with(Res::exact(zero(s), 0)),
                _ => with(round80(
                    wide(op, unpack(x), unpack(y)).expect("non-zero product"),
                    c.prec,
                    c.rc,
                )),
            }
        }
        _ => {
            let s = sx ^ y.sign();
            match (cx, cy) {
                (Inf, Inf) | (Zero, Zero) => Res::invalid(),
                (Inf, _) => with(Res::exact(inf(s), 0)),
                (_, Inf) => with(Res::exact(zero(s), 0)),
                // Zero divide takes precedence over the denormal operand.
                (_, Zero) => Res::exact(inf(s), sw::ZE),
                (Zero, _) => with(Res::exact(zero(s), 0)),
                _ => with(round80(
                    wide(op, unpack(x), unpack(y)).expect("non-zero quotient"),
                    c.prec,
                    c.rc,
                )),
            }
        }
    }
}

/// floor(sqrt(n)).
pub fn isqrt(n: u128) -> u128 {
    let (mut x, mut r) = (n, 0u128);
    let mut bit = 1u128 << 126;
    while bit > n {
        bit >>= 2;
    }
    while bit != 0 {
        if x >= r + bit {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    r
}

/// `fsqrt`.
pub fn sqrt(a: F80, c: Ctx) -> Res {
    if let Some(r) = special1(a) {
        return r;
    }
    match classify(a) {
        Class::Zero => return Res::exact(a, 0),
        Class::Inf if !a.sign() => return Res::exact(a, 0),
        _ if a.sign() => return Res::invalid(),
        _ => {}
    }
    let f = unpack(a);
    let d = de(&[classify(a)]);
    let (n, k) = if f.exp & 1 == 0 {
        ((f.sig as u128) << 63, (f.exp - 126) / 2)
    } else {
        ((f.sig as u128) << 64, (f.exp - 127) / 2)
    };
    let r = isqrt(n);
    let rem = n - r * r;
    let half = rem > r;
    let sig = r << 64 | (half as u128) << 63 | (rem != 0) as u128;
    let mut res = round80(
        Exact {
            sign: false,
            exp: k + 63,
            sig,
        },
        c.prec,
        c.rc,
    );
    res.exc |= d;
    res
}

/// Outcome of a compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// a < b.
    Less,
    /// a == b.
    Equal,
    /// a > b.
    Greater,
    /// A NaN or unsupported operand.
    Unordered,
}

/// Compares finite or infinite values (no NaNs).
fn order(a: F80, b: F80) -> Cmp {
    // Magnitude key: (class rank, exponent, significand).
    let key = |x: F80| match classify(x) {
        Class::Zero => (0, 0i32, 0u64),
        Class::Inf => (2, 0, 0),
        _ => {
            let f = unpack(x);
            (1, f.exp, f.sig)
        }
    };
    let (ka, kb) = (key(a), key(b));
    if ka.0 == 0 && kb.0 == 0 {
        return Cmp::Equal;
    }
    let (sa, sb) = (a.sign() && ka.0 != 0, b.sign() && kb.0 != 0);
    let mag = ka.cmp(&kb);
    let o = match (sa, sb) {
        (false, true) => std::cmp::Ordering::Greater,
        (true, false) => std::cmp::Ordering::Less,
        (false, false) => mag,
        (true, true) => mag.reverse(),
    };
    match o {
        std::cmp::Ordering::Less => Cmp::Less,
        std::cmp::Ordering::Equal => Cmp::Equal,
        std::cmp::Ordering::Greater => Cmp::Greater,
    }
}

/// Compares `a` with `b`. `quiet` (fucom*): only SNaNs and unsupported operands
/// raise IE; otherwise any NaN does. DE for denormal operands.
pub fn compare(a: F80, b: F80, quiet: bool) -> (Cmp, u16) {
    let (ca, cb) = (classify(a), classify(b));
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return (Cmp::Unordered, sw::IE);
    }
    if ca.is_nan() || cb.is_nan() {
        let ie = !quiet || ca == Class::SNan || cb == Class::SNan;
        return (Cmp::Unordered, if ie { sw::IE } else { 0 });
    }
    (order(a, b), de(&[ca, cb]))
}

// ---- Memory formats ----

/// Widens a binary32 (`ebits` = 8, `fbits` = 23) or binary64 (11, 52) pattern to
/// 80 bits, exactly. SNaNs stay signalling (the caller decides); `DE` is returned
/// for denormals.
pub fn from_ieee(bits: u64, ebits: u32, fbits: u32) -> (F80, u16) {
    let sign = (bits >> (ebits + fbits)) & 1 != 0;
    let emax_field = (1u64 << ebits) - 1;
    let bias = (emax_field >> 1) as i32;
    let be = (bits >> fbits) & emax_field;
    let frac = bits & ((1u64 << fbits) - 1);
    let s = (sign as u16) << 15;
    if be == emax_field {
        return (
            F80 {
                mant: 1 << 63 | frac << (63 - fbits),
                se: s | 0x7fff,
            },
            0,
        );
    }
    if be == 0 {
        if frac == 0 {
            return (zero(sign), 0);
        }
        let lz = frac.leading_zeros();
        // value = frac × 2^(1 - bias - fbits); the leading bit sits at 63 - lz.
        let exp = 1 - bias - fbits as i32 + (63 - lz as i32);
        return (
            F80 {
                mant: frac << lz,
                se: s | (exp + 16383) as u16,
            },
            sw::DE,
        );
    }
    let exp = be as i32 - bias;
    (
        F80 {
            mant: 1 << 63 | frac << (63 - fbits),
            se: s | (exp + 16383) as u16,
        },
        0,
    )
}

/// Loads a binary32 for `fld m32`: SNaN is quieted with IE.
pub fn load_f32(bits: u32) -> (F80, u16) {
    load_ieee(bits as u64, 8, 23)
}

/// Loads a binary64 for `fld m64`: SNaN is quieted with IE.
pub fn load_f64(bits: u64) -> (F80, u16) {
    load_ieee(bits, 11, 52)
}

fn load_ieee(bits: u64, ebits: u32, fbits: u32) -> (F80, u16) {
    let (v, e) = from_ieee(bits, ebits, fbits);
    if classify(v) == Class::SNan {
        (quiet(v), e | sw::IE)
    } else {
        (v, e)
    }
}

/// Narrows to binary32 (`SGL`) or binary64 (`DBL`) for `fst`: rounds with `rc`;
/// NaNs keep their upper payload bits and are quieted (IE for SNaN); unsupported
/// operands give the default NaN with IE. Returns (bits, flags, rounded up).
pub fn store_ieee(x: F80, f: Fmt, rc: Rc) -> (u64, u16, bool) {
    let fbits = f.prec - 1;
    let ebits = if f.prec == 24 { 8 } else { 11 };
    let sign = (x.sign() as u64) << (ebits + fbits);
    let emask = ((1u64 << ebits) - 1) << fbits;
    match classify(x) {
        Class::Unsupported => (
            sign_bit(ebits + fbits) | emask | 1 << (fbits - 1),
            sw::IE,
            false,
        ),
        Class::QNan | Class::SNan => {
            let ie = if classify(x) == Class::SNan {
                sw::IE
            } else {
                0
            };
            let frac = (x.mant << 1) >> (64 - fbits) | 1 << (fbits - 1);
            (sign | emask | frac, ie, false)
        }
        Class::Inf => (sign | emask, 0, false),
        Class::Zero => (sign, 0, false),
        _ => {
            let o = round(unpack(x).into(), f, rc);
            let bits = match o.r {
                Rounded::Zero => sign,
                Rounded::Inf => sign | emask,
                Rounded::Fin { exp, sig } => {
                    let frac = (sig >> (64 - f.prec)) & ((1u64 << fbits) - 1);
                    let be = if sig >> 63 == 0 {
                        0
                    } else {
                        (exp + f.emax) as u64
                    };
                    sign | be << fbits | frac
                }
            };
            (bits, o.exc, o.up)
        }
    }
}

fn sign_bit(n: u32) -> u64 {
    1u64 << n
}

// ---- Integers ----

/// Converts a signed integer exactly.
pub fn from_int(v: i64) -> F80 {
    if v == 0 {
        return F80::ZERO;
    }
    let m = v.unsigned_abs();
    let lz = m.leading_zeros();
    F80 {
        mant: m << lz,
        se: ((v < 0) as u16) << 15 | (16383 + 63 - lz as i32) as u16,
    }
}

/// Converts to a `bits`-bit signed integer rounding with `rc` (`fist`, or
/// `Rc::Zero` for `fisttp`). NaN, infinity, unsupported and out-of-range values
/// give IE and the integer indefinite (only the sign bit set). Returns (value
/// as two's complement in the low `bits`, flags, rounded up).
pub fn to_int(x: F80, bits: u32, rc: Rc) -> (u64, u16, bool) {
    let indef = 1u64 << (bits - 1);
    let m = match classify(x) {
        Class::Zero => return (0, 0, false),
        Class::Normal | Class::Denormal => unpack(x),
        _ => return (indef, sw::IE, false),
    };
    let (mag, inexact, up) = round_to_integer(m, rc);
    let limit = if m.sign {
        indef as u128
    } else {
        indef as u128 - 1
    };
    if mag > limit {
        return (indef, sw::IE, false);
    }
    let v = if m.sign {
        (mag as u64).wrapping_neg()
    } else {
        mag as u64
    };
    let v = if bits == 64 {
        v
    } else {
        v & ((1u64 << bits) - 1)
    };
    (v, if inexact { sw::PE } else { 0 }, up)
}

/// Rounds |f| to an integer: (magnitude, inexact, rounded up). Magnitudes of
/// 2^64 and more are reported as `u128::MAX`-ish large numbers.
fn round_to_integer(f: Fin, rc: Rc) -> (u128, bool, bool) {
    if f.exp >= 63 {
        let mag = if f.exp >= 127 {
            u128::MAX
        } else {
            (f.sig as u128) << (f.exp - 63)
        };
        return (mag, false, false);
    }
    // Fixed point with 64 fraction bits: value = q × 2^-64.
    let shift = 63 - f.exp; // ≥ 1
    let q = shr_sticky((f.sig as u128) << 64, shift as u32);
    let int = q >> 64;
    let frac = q & u64::MAX as u128;
    let half = 1u128 << 63;
    let inexact = frac != 0;
    let inc = match rc {
        Rc::Nearest => frac > half || (frac == half && int & 1 == 1),
        Rc::Up => inexact && !f.sign,
        Rc::Down => inexact && f.sign,
        Rc::Zero => false,
    };
    (int + inc as u128, inexact, inc)
}

/// `frndint`: rounds to an integral value with `rc` (precision control does not apply).
pub fn round_int(a: F80, rc: Rc) -> Res {
    if let Some(r) = special1(a) {
        return r;
    }
    let c = classify(a);
    if !c.is_finite_nonzero() {
        return Res::exact(a, 0);
    }
    let f = unpack(a);
    if f.exp >= 63 {
        return Res::exact(a, 0);
    }
    let (mag, inexact, up) = round_to_integer(f, rc);
    let v = if mag == 0 {
        zero(f.sign)
    } else {
        with_sign(from_int_mag(mag as u64), f.sign)
    };
    Res {
        v,
        exc: de(&[c]) | if inexact { sw::PE } else { 0 },
        up,
    }
}

fn from_int_mag(m: u64) -> F80 {
    let lz = m.leading_zeros();
    F80 {
        mant: m << lz,
        se: (16383 + 63 - lz as i32) as u16,
    }
}

/// Truncates a finite value to an integer, saturating far outside ±2^30 (all
/// such scales over- or underflow any 80-bit value the same way).
fn trunc_clamped(f: Fin) -> i32 {
    let lim = 1i64 << 30;
    let mag = if f.exp < 0 {
        0
    } else if f.exp >= 31 {
        lim
    } else {
        ((f.sig >> (63 - f.exp)) as i64).min(lim)
    };
    (if f.sign { -mag } else { mag }) as i32
}

/// `fscale`: `a × 2^trunc(b)`, rounded with `rc` at 64 bits.
pub fn scale(a: F80, b: F80, rc: Rc) -> Res {
    if let Some(r) = special2(a, b) {
        return r;
    }
    let (ca, cb) = (classify(a), classify(b));
    let d = de(&[ca, cb]);
    if cb == Class::Inf {
        return match (ca, b.sign()) {
            (Class::Zero, false) | (Class::Inf, true) => Res::invalid(),
            (Class::Zero, true) | (Class::Inf, false) => Res::exact(a, d),
            (_, false) => Res::exact(inf(a.sign()), d),
            (_, true) => Res::exact(zero(a.sign()), d),
        };
    }
    if !ca.is_finite_nonzero() {
        return Res::exact(a, d);
    }
    let n = if cb == Class::Zero {
        0
    } else {
        trunc_clamped(unpack(b))
    };
    let f = unpack(a);
    let mut r = round80(
        Exact {
            exp: f.exp + n,
            ..f.into()
        },
        64,
        rc,
    );
    r.exc |= d;
    r
}

/// `fxtract`: (exponent, significand). For zero: ZE, exponent -inf, significand
/// the zero; for infinity: +inf and the infinity.
pub fn xtract(a: F80) -> (F80, F80, u16) {
    if let Some(r) = special1(a) {
        return (r.v, r.v, r.exc);
    }
    match classify(a) {
        Class::Zero => (inf(true), a, sw::ZE),
        Class::Inf => (inf(false), a, 0),
        c => {
            let f = unpack(a);
            let e = if f.exp == 0 {
                F80::ZERO
            } else {
                from_int(f.exp as i64)
            };
            (
                e,
                F80 {
                    mant: f.sig,
                    se: (f.sign as u16) << 15 | 16383,
                },
                de(&[c]),
            )
        }
    }
}

/// Result of `fprem` / `fprem1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prem {
    /// The (partial) remainder and flags.
    pub res: Res,
    /// The three low quotient bits (Q2 Q1 Q0), when the reduction completed.
    pub q: Option<u8>,
    /// C2: the reduction is incomplete (run the instruction again).
    pub incomplete: bool,
}

/// How far one `fprem` step reduces the exponent difference when it is 64 or more.
pub fn partial_bits(d: i32) -> i32 {
    32 + (d - 64) % 32
}

/// `fprem` (`ieee` false: quotient truncated) and `fprem1` (`ieee` true: quotient
/// rounded to nearest-even). With an exponent difference of 64 or more one step
/// reduces it partly and sets C2.
pub fn prem(a: F80, b: F80, ieee: bool) -> Prem {
    let done = |res: Res, q: u8| Prem {
        res,
        q: Some(q),
        incomplete: false,
    };
    if let Some(r) = special2(a, b) {
        return Prem {
            res: r,
            q: None,
            incomplete: false,
        };
    }
    let (ca, cb) = (classify(a), classify(b));
    let d = de(&[ca, cb]);
    if ca == Class::Inf || cb == Class::Zero {
        return Prem {
            res: Res::invalid(),
            q: None,
            incomplete: false,
        };
    }
    if ca == Class::Zero || cb == Class::Inf {
        return done(Res::exact(canonical(a), d), 0);
    }
    let (fa, fb) = (unpack(a), unpack(b));
    let diff = fa.exp - fb.exp;
    if diff >= 64 {
        let n = partial_bits(diff);
        // Divide by b × 2^(diff - n), quotient truncated.
        let eb = fb.exp + diff - n;
        let (r, _) = rem_core(fa, Fin { exp: eb, ..fb }, false);
        let res = remainder_value(fa.sign, r, eb);
        return Prem {
            res: Res::exact(res, d),
            q: None,
            incomplete: true,
        };
    }
    if diff < -1 {
        return done(Res::exact(canonical(a), d), 0);
    }
    let (r, q) = rem_core(fa, fb, ieee);
    let res = remainder_value(fa.sign ^ r.1, r, fb.exp);
    done(Res::exact(res, d), (q & 7) as u8)
}

/// `x` re-encoded the way results are (a pseudo-denormal becomes the equal
/// normal number).
pub fn canonical(x: F80) -> F80 {
    if classify(x).is_finite_nonzero() {
        pack80(&round(unpack(x).into(), EXT, Rc::Nearest))
    } else {
        x
    }
}

/// Integer remainder of |a| / |b| where `a.exp - b.exp` is in -1..64:
/// ((remainder scaled by 2^(b.exp - 64), sign flipped), quotient).
fn rem_core(a: Fin, b: Fin, nearest: bool) -> ((u128, bool), u128) {
    let diff = a.exp - b.exp;
    let big_a = (a.sig as u128) << (diff + 1) as u32;
    let big_b = (b.sig as u128) << 1;
    let mut q = big_a / big_b;
    let mut r = big_a % big_b;
    let mut flip = false;
    if nearest && (2 * r > big_b || (2 * r == big_b && q & 1 == 1)) {
        q += 1;
        r = big_b - r;
        flip = true;
    }
    ((r, flip), q)
}

/// The remainder `r × 2^(eb - 64)` with sign, exactly (it always fits).
fn remainder_value(sign: bool, r: (u128, bool), eb: i32) -> F80 {
    let (m, _) = r;
    if m == 0 {
        return zero(sign);
    }
    let e = Exact::from_parts(sign, m, eb - 64, false);
    pack80(&round(e, EXT, Rc::Nearest))
}
