//! IEEE 754 binary32/binary64 arithmetic with the exact semantics of x86 SSE,
//! computed so that every host produces the same bits.
//!
//! Values travel as raw bit patterns in a `u64` (binary32 in the low 32 bits).
//! Every operation first applies DAZ and notes denormal operands, then resolves
//! NaN operands with x86's rules (an SNaN is quieted; with two NaNs the first
//! source wins; invalid operations give the negative "default NaN"), then
//! computes the exact result (or an exact significand with a sticky bit) in
//! integer arithmetic and rounds it once in [`round_pack`], which implements the
//! four MXCSR rounding modes, overflow, underflow with tininess detected after
//! rounding, flush-to-zero and the inexact flag.
//!
//! In round-to-nearest mode, with normal operands and a normal result, the
//! hardware float unit of any IEEE host computes the same correctly rounded
//! result; those cases take a fast path through Rust's `f32`/`f64` operators and
//! derive the inexact flag with error-free transformations (exact residuals).
//! The NaN, zero, infinite, denormal and directed-rounding cases never reach the
//! host's float unit.

/// MXCSR bits.
pub mod mx {
    /// Invalid operation.
    pub const IE: u32 = 1 << 0;
    /// Denormal operand.
    pub const DE: u32 = 1 << 1;
    /// Divide by zero.
    pub const ZE: u32 = 1 << 2;
    /// Overflow.
    pub const OE: u32 = 1 << 3;
    /// Underflow.
    pub const UE: u32 = 1 << 4;
    /// Precision (inexact).
    pub const PE: u32 = 1 << 5;
    /// The six exception flags.
    pub const FLAGS: u32 = 0x3f;
    /// Denormals are zeros.
    pub const DAZ: u32 = 1 << 6;
    /// The exception masks (flag bit << 7).
    pub const MASKS: u32 = 0x3f << 7;
    /// Shift of the rounding-control field.
    pub const RC_SHIFT: u32 = 13;
    /// Flush to zero.
    pub const FTZ: u32 = 1 << 15;
    /// Bits `ldmxcsr` accepts; setting any other bit faults (#GP).
    pub const WRITABLE: u32 = 0xffff;
    /// Power-on value: all exceptions masked, round to nearest.
    pub const DEFAULT: u32 = 0x1f80;
}

/// Rounding mode (MXCSR.RC encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rc {
    /// Round to nearest, ties to even.
    Nearest = 0,
    /// Round toward negative infinity.
    Down = 1,
    /// Round toward positive infinity.
    Up = 2,
    /// Round toward zero (truncate).
    Zero = 3,
}

impl Rc {
    /// The mode of a two-bit RC field.
    pub fn from_bits(b: u32) -> Rc {
        match b & 3 {
            0 => Rc::Nearest,
            1 => Rc::Down,
            2 => Rc::Up,
            _ => Rc::Zero,
        }
    }
}

/// Control (from MXCSR) and the exception flags raised so far by one instruction.
#[derive(Clone, Copy, Debug)]
pub struct Env {
    /// Rounding mode.
    pub rc: Rc,
    /// Denormal inputs read as zero.
    pub daz: bool,
    /// Tiny results flush to zero (when underflow is masked).
    pub ftz: bool,
    /// Underflow is masked (governs when UE is raised and whether FTZ applies).
    pub um: bool,
    /// Whether the inexact flag still needs computing (false when PE is already
    /// set and masked, so the fast path may skip the residual).
    pub want_pe: bool,
    /// Flags raised (MXCSR bits 0..5).
    pub flags: u32,
}

impl Env {
    /// The environment an instruction runs in under `mxcsr`.
    pub fn new(mxcsr: u32) -> Env {
        Env {
            rc: Rc::from_bits(mxcsr >> mx::RC_SHIFT),
            daz: mxcsr & mx::DAZ != 0,
            ftz: mxcsr & mx::FTZ != 0,
            um: mxcsr & (mx::UE << 7) != 0,
            want_pe: mxcsr & (mx::PE | mx::PE << 7) != (mx::PE | mx::PE << 7),
            flags: 0,
        }
    }

    /// The same environment with another rounding mode.
    pub fn with_rc(mut self, rc: Rc) -> Env {
        self.rc = rc;
        self
    }

    #[inline(always)]
    fn raise(&mut self, f: u32) {
        self.flags |= f;
    }
}

/// A binary floating-point format.
pub trait Format {
    /// Stored fraction bits.
    const MANT: u32;
    /// Exponent bits.
    const EXP: u32;
    /// Total bits.
    const BITS: u32 = 1 + Self::EXP + Self::MANT;
    /// Sign bit.
    const SIGN: u64 = 1 << (Self::BITS - 1);
    /// All-ones exponent field value.
    const EMAX_FIELD: u64 = (1 << Self::EXP) - 1;
    /// Exponent bias.
    const BIAS: i32 = (1 << (Self::EXP - 1)) - 1;
    /// Fraction mask.
    const FRAC: u64 = (1 << Self::MANT) - 1;
    /// Quiet bit of a NaN.
    const QUIET: u64 = 1 << (Self::MANT - 1);
    /// Positive infinity.
    const INF: u64 = Self::EMAX_FIELD << Self::MANT;
    /// The default ("real indefinite") NaN: negative, quiet, zero payload.
    const DEFAULT_NAN: u64 = Self::SIGN | Self::INF | Self::QUIET;
    /// Largest finite value.
    const MAX: u64 = Self::INF - 1;

    /// Round-to-nearest fast paths on the host float unit: `Some((bits, inexact))`
    /// when the operands and the result are normal (see the module docs).
    fn host_add(a: u64, b: u64, want_pe: bool) -> Option<(u64, bool)>;
    /// As [`Format::host_add`], for multiplication.
    fn host_mul(a: u64, b: u64, want_pe: bool) -> Option<(u64, bool)>;
    /// As [`Format::host_add`], for division.
    fn host_div(a: u64, b: u64, want_pe: bool) -> Option<(u64, bool)>;
    /// As [`Format::host_add`], for the square root.
    fn host_sqrt(a: u64, want_pe: bool) -> Option<(u64, bool)>;
}

/// IEEE binary32.
#[derive(Clone, Copy, Debug)]
pub struct F32;
/// IEEE binary64.
#[derive(Clone, Copy, Debug)]
pub struct F64;

/// The biased exponent field of a binary64 value.
#[inline(always)]
fn field64(x: f64) -> u64 {
    (x.to_bits() >> 52) & 0x7ff
}

/// Whether `x` is normal with an exponent field in `lo..=hi`.
#[inline(always)]
fn band64(x: f64, lo: u64, hi: u64) -> bool {
    let e = field64(x);
    e >= lo && e <= hi
}

/// Error of `s = a + b` (Knuth's two-sum; exact when nothing overflows).
#[inline(always)]
fn two_sum_err(a: f64, b: f64, s: f64) -> f64 {
    let bb = s - a;
    (a - (s - bb)) + (b - bb)
}

impl Format for F32 {
    const MANT: u32 = 23;
    const EXP: u32 = 8;

    // binary32 operands are exact in binary64, and binary64 has more than twice
    // the precision plus two bits, so rounding the binary64 result of +, -, *, /
    // or sqrt to binary32 gives the correctly rounded binary32 result.
    #[inline(always)]
    fn host_add(a: u64, b: u64, want_pe: bool) -> Option<(u64, bool)> {
        let (x, y) = (
            f32::from_bits(a as u32) as f64,
            f32::from_bits(b as u32) as f64,
        );
        let s = x + y;
        let r = s as f32;
        if !band32(r) {
            return None;
        }
        let inexact = want_pe && (r as f64 != s || two_sum_err(x, y, s) != 0.0);
        Some((r.to_bits() as u64, inexact))
    }
    #[inline(always)]
    fn host_mul(a: u64, b: u64, want_pe: bool) -> Option<(u64, bool)> {
        let p = f32::from_bits(a as u32) as f64 * f32::from_bits(b as u32) as f64; // exact
        let r = p as f32;
        if !band32(r) {
            return None;
        }
        Some((r.to_bits() as u64, want_pe && r as f64 != p))
    }
    #[inline(always)]
    fn host_div(a: u64, b: u64, want_pe: bool) -> Option<(u64, bool)> {
        let (x, y) = (
            f32::from_bits(a as u32) as f64,
            f32::from_bits(b as u32) as f64,
        );
        let r = (x / y) as f32;
        if !band32(r) {
            return None;
        }
        // r * y is exact in binary64 (24 x 24 bits).
        Some((r.to_bits() as u64, want_pe && r as f64 * y != x))
    }
    #[inline(always)]
    fn host_sqrt(a: u64, want_pe: bool) -> Option<(u64, bool)> {
        let x = f32::from_bits(a as u32) as f64;
        let r = x.sqrt() as f32;
        if !band32(r) {
            return None;
        }
        let r64 = r as f64;
        Some((r.to_bits() as u64, want_pe && r64 * r64 != x))
    }
}

/// Whether a binary32 result is normal and not the smallest normal binade (where
/// tininess after rounding needs the exact value).
#[inline(always)]
fn band32(r: f32) -> bool {
    let e = (r.to_bits() >> 23) & 0xff;
    (2..=254).contains(&e)
}

impl Format for F64 {
    const MANT: u32 = 52;
    const EXP: u32 = 11;

    #[inline(always)]
    fn host_add(a: u64, b: u64, want_pe: bool) -> Option<(u64, bool)> {
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        let s = x + y;
        if !band64(s, 2, 2046) {
            return None;
        }
        Some((s.to_bits(), want_pe && two_sum_err(x, y, s) != 0.0))
    }
    #[inline(always)]
    fn host_mul(a: u64, b: u64, want_pe: bool) -> Option<(u64, bool)> {
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        let p = x * y;
        // Far enough from underflow that the residual x*y - p is representable.
        if !band64(p, 200, 2046) {
            return None;
        }
        Some((p.to_bits(), want_pe && x.mul_add(y, -p) != 0.0))
    }
    #[inline(always)]
    fn host_div(a: u64, b: u64, want_pe: bool) -> Option<(u64, bool)> {
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        if !band64(x, 200, 1900) {
            return None;
        }
        let q = x / y;
        if !band64(q, 2, 2046) {
            return None;
        }
        // The remainder of a correctly rounded quotient is representable here.
        Some((q.to_bits(), want_pe && q.mul_add(y, -x) != 0.0))
    }
    #[inline(always)]
    fn host_sqrt(a: u64, want_pe: bool) -> Option<(u64, bool)> {
        let x = f64::from_bits(a);
        if !band64(x, 200, 2046) || a >> 63 != 0 {
            return None;
        }
        let r = x.sqrt();
        Some((r.to_bits(), want_pe && r.mul_add(r, -x) != 0.0))
    }
}

// ---------------------------------------------------------------------------
// Classification

/// Exponent field.
#[inline(always)]
pub fn exp_field<F: Format>(a: u64) -> u64 {
    (a >> F::MANT) & F::EMAX_FIELD
}

/// Whether `a` is a NaN.
#[inline(always)]
pub fn is_nan<F: Format>(a: u64) -> bool {
    a & !F::SIGN > F::INF
}

/// Whether `a` is a signalling NaN.
#[inline(always)]
pub fn is_snan<F: Format>(a: u64) -> bool {
    is_nan::<F>(a) && a & F::QUIET == 0
}

/// Whether `a` is ±infinity.
#[inline(always)]
pub fn is_inf<F: Format>(a: u64) -> bool {
    a & !F::SIGN == F::INF
}

/// Whether `a` is ±0.
#[inline(always)]
pub fn is_zero<F: Format>(a: u64) -> bool {
    a & !F::SIGN == 0
}

/// Whether `a` is a denormal (nonzero with a zero exponent field).
#[inline(always)]
pub fn is_denormal<F: Format>(a: u64) -> bool {
    exp_field::<F>(a) == 0 && a & F::FRAC != 0
}

/// Whether `a` is negative (sign bit set).
#[inline(always)]
fn neg<F: Format>(a: u64) -> bool {
    a & F::SIGN != 0
}

/// Quiets a NaN (sets the quiet bit, keeps sign and payload).
#[inline(always)]
pub fn quiet<F: Format>(a: u64) -> u64 {
    a | F::QUIET
}

/// Signed zero.
#[inline(always)]
fn zero<F: Format>(sign: bool) -> u64 {
    if sign { F::SIGN } else { 0 }
}

/// Applies DAZ to an operand: returns the operand (a denormal replaced by a
/// zero of its sign under DAZ) and whether it is a denormal that counts for the
/// denormal-operand flag. That flag is raised only once the operation has got
/// past its NaN operands, invalid operations and division by zero, which take
/// precedence over it (and suppress it).
#[inline(always)]
pub fn daz<F: Format>(a: u64, env: &Env) -> (u64, bool) {
    if is_denormal::<F>(a) {
        if env.daz {
            return (a & F::SIGN, false);
        }
        return (a, true);
    }
    (a, false)
}

/// Raises DE when `de`.
#[inline(always)]
fn denormal_flag(de: bool, env: &mut Env) {
    if de {
        env.raise(mx::DE);
    }
}

/// x86's NaN propagation for a two-operand arithmetic instruction: `None` when
/// neither operand is a NaN, else the result (first NaN operand wins, quieted).
#[inline(always)]
fn propagate2<F: Format>(a: u64, b: u64, env: &mut Env) -> Option<u64> {
    let (an, bn) = (is_nan::<F>(a), is_nan::<F>(b));
    if !an && !bn {
        return None;
    }
    if is_snan::<F>(a) || is_snan::<F>(b) {
        env.raise(mx::IE);
    }
    Some(quiet::<F>(if an { a } else { b }))
}

/// The result of an invalid operation.
#[inline(always)]
fn invalid<F: Format>(env: &mut Env) -> u64 {
    env.raise(mx::IE);
    F::DEFAULT_NAN
}

// ---------------------------------------------------------------------------
// Exact values and rounding

/// A finite nonzero value `(-1)^sign * sig * 2^exp`.
#[derive(Clone, Copy, Debug)]
struct Unpacked {
    sign: bool,
    exp: i32,
    sig: u128,
}

/// Unpacks a finite nonzero value.
#[inline(always)]
fn unpack<F: Format>(a: u64) -> Unpacked {
    let e = exp_field::<F>(a) as i32;
    let frac = (a & F::FRAC) as u128;
    let (sig, exp) = if e == 0 {
        (frac, 1 - F::BIAS - F::MANT as i32)
    } else {
        (frac | 1 << F::MANT, e - F::BIAS - F::MANT as i32)
    };
    Unpacked {
        sign: neg::<F>(a),
        exp,
        sig,
    }
}

/// Shifts `sig` right by `sh` bits (left when negative) and rounds the discarded
/// part with `rc` for a value of sign `sign`. Returns the rounded integer (which
/// may carry into a new top bit) and whether anything nonzero was discarded.
#[inline(always)]
fn round_shift(sig: u128, sh: i32, sign: bool, rc: Rc) -> (u128, bool) {
    if sh <= 0 {
        return (sig << (-sh) as u32, false);
    }
    let (m, above, half) = if sh >= 128 {
        // Everything is discarded: compare with one half-unit of the result.
        let h = 1u128 << 127;
        (0, sh == 128 && sig > h, sh == 128 && sig == h)
    } else {
        let rem = sig & ((1u128 << sh) - 1);
        let h = 1u128 << (sh - 1);
        (sig >> sh, rem > h, rem == h)
    };
    let rem_nonzero = if sh >= 128 {
        sig != 0
    } else {
        sig & ((1u128 << sh) - 1) != 0
    };
    let up = match rc {
        Rc::Nearest => above || (half && m & 1 == 1),
        Rc::Down => sign && rem_nonzero,
        Rc::Up => !sign && rem_nonzero,
        Rc::Zero => false,
    };
    (m + up as u128, rem_nonzero)
}

/// Rounds the exact value `(-1)^sign * sig * 2^exp` to format `F` with `env`'s
/// rounding mode, raising OE, UE, PE and applying FTZ as x86 does. `sig` may
/// carry a sticky bit in its lowest position as long as it has at least two
/// bits more than the format's precision.
fn round_pack<F: Format>(sign: bool, exp: i32, sig: u128, env: &mut Env) -> u64 {
    if sig == 0 {
        return zero::<F>(sign);
    }
    let p = F::MANT as i32 + 1;
    let emin = 1 - F::BIAS;
    let top = exp + (127 - sig.leading_zeros() as i32); // value in [2^top, 2^(top+1))
    let q_unbounded = top - (p - 1);
    let q = q_unbounded.max(emin - (p - 1));
    let (mut m, inexact) = round_shift(sig, q - exp, sign, env.rc);
    // Tininess is detected after rounding with an unbounded exponent: a value just
    // below the smallest normal that rounds up to it is not tiny.
    let tiny = top < emin && {
        let (mu, _) = round_shift(sig, q_unbounded - exp, sign, env.rc);
        !(top == emin - 1 && mu >> p != 0)
    };
    let mut q = q;
    if m >> p != 0 {
        m >>= 1;
        q += 1;
    }
    if m >> (p - 1) != 0 && q + (p - 1) > F::BIAS {
        env.raise(mx::OE | mx::PE);
        let to_inf = match env.rc {
            Rc::Nearest => true,
            Rc::Down => sign,
            Rc::Up => !sign,
            Rc::Zero => false,
        };
        return zero::<F>(sign) | if to_inf { F::INF } else { F::MAX };
    }
    if tiny {
        if !env.um {
            // Unmasked underflow is signalled whether or not the result is exact.
            env.raise(mx::UE);
        } else if env.ftz {
            env.raise(mx::UE | mx::PE);
            return zero::<F>(sign);
        } else if inexact {
            env.raise(mx::UE);
        }
    }
    if inexact {
        env.raise(mx::PE);
    }
    let bits = if m >> (p - 1) != 0 {
        let field = (q + (p - 1) + F::BIAS) as u64;
        (field << F::MANT) | (m as u64 & F::FRAC)
    } else {
        m as u64 // denormal (q is the minimum quantum)
    };
    zero::<F>(sign) | bits
}

/// Normalises a nonzero significand so its top bit is at bit `at`.
#[inline(always)]
fn normalise(u: Unpacked, at: u32) -> Unpacked {
    let msb = 127 - u.sig.leading_zeros();
    Unpacked {
        sign: u.sign,
        exp: u.exp - (at as i32 - msb as i32),
        sig: u.sig << (at - msb),
    }
}

/// Shifts right, OR-ing everything shifted out into the lowest bit.
#[inline(always)]
fn shift_right_jam(v: u128, n: i32) -> u128 {
    if n <= 0 {
        v
    } else if n >= 128 {
        (v != 0) as u128
    } else {
        (v >> n) | ((v & ((1u128 << n) - 1)) != 0) as u128
    }
}

/// Integer square root (floor) of a `u128`.
fn isqrt(n: u128) -> u128 {
    if n == 0 {
        return 0;
    }
    let mut bit = 1u128 << ((127 - n.leading_zeros()) & !1);
    let (mut n, mut r) = (n, 0u128);
    while bit != 0 {
        if n >= r + bit {
            n -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    r
}

// ---------------------------------------------------------------------------
// Arithmetic

/// `a + b` (or `a - b` when `sub`), SSE semantics.
pub fn add<F: Format>(a: u64, b: u64, sub: bool, env: &mut Env) -> u64 {
    let (a, da) = daz::<F>(a, env);
    let (b, db) = daz::<F>(b, env);
    if let Some(n) = propagate2::<F>(a, b, env) {
        return n;
    }
    let b = if sub { b ^ F::SIGN } else { b };
    let fast = env.rc == Rc::Nearest && normal::<F>(a) && normal::<F>(b);
    if let Some(r) = host_fast(fast, env, |pe| F::host_add(a, b, pe)) {
        return r;
    }
    add_exact::<F>(a, b, da || db, env)
}

/// `a + b` for non-NaN operands, in integer arithmetic.
fn add_exact<F: Format>(a: u64, b: u64, de: bool, env: &mut Env) -> u64 {
    let (ai, bi) = (is_inf::<F>(a), is_inf::<F>(b));
    if ai && bi && (a ^ b) & F::SIGN != 0 {
        return invalid::<F>(env);
    }
    denormal_flag(de, env);
    if ai || bi {
        return if ai { a } else { b };
    }
    let (az, bz) = (is_zero::<F>(a), is_zero::<F>(b));
    if az && bz {
        return if (a ^ b) & F::SIGN == 0 {
            a
        } else {
            zero::<F>(env.rc == Rc::Down)
        };
    }
    if az || bz {
        // The other operand, through rounding so that FTZ sees a denormal result.
        let u = unpack::<F>(if az { b } else { a });
        return round_pack::<F>(u.sign, u.exp, u.sig, env);
    }
    let mut x = normalise(unpack::<F>(a), 126);
    let mut y = normalise(unpack::<F>(b), 126);
    if x.exp < y.exp {
        std::mem::swap(&mut x, &mut y);
    }
    let ys = shift_right_jam(y.sig, x.exp - y.exp);
    if x.sign == y.sign {
        return round_pack::<F>(x.sign, x.exp, x.sig + ys, env);
    }
    let (sign, mag) = if x.sig >= ys {
        (x.sign, x.sig - ys)
    } else {
        (y.sign, ys - x.sig)
    };
    if mag == 0 {
        return zero::<F>(env.rc == Rc::Down);
    }
    round_pack::<F>(sign, x.exp, mag, env)
}

/// Whether `a` is normal (not zero, denormal, infinite or NaN).
#[inline(always)]
fn normal<F: Format>(a: u64) -> bool {
    let e = exp_field::<F>(a);
    e != 0 && e != F::EMAX_FIELD
}

/// The host-float fast path shared by add, mul, div and sqrt: when `fast` holds
/// (round to nearest, normal operands) and the host computes a normal result, take
/// it and raise PE if it was inexact; otherwise `None` and the integer path runs.
fn host_fast(
    fast: bool,
    env: &mut Env,
    host: impl FnOnce(bool) -> Option<(u64, bool)>,
) -> Option<u64> {
    if !fast {
        return None;
    }
    let (r, inexact) = host(env.want_pe)?;
    if inexact {
        env.raise(mx::PE);
    }
    Some(r)
}

/// `a * b`, SSE semantics.
pub fn mul<F: Format>(a: u64, b: u64, env: &mut Env) -> u64 {
    let (a, da) = daz::<F>(a, env);
    let (b, db) = daz::<F>(b, env);
    if let Some(n) = propagate2::<F>(a, b, env) {
        return n;
    }
    let fast = env.rc == Rc::Nearest && normal::<F>(a) && normal::<F>(b);
    if let Some(r) = host_fast(fast, env, |pe| F::host_mul(a, b, pe)) {
        return r;
    }
    mul_exact::<F>(a, b, da || db, env)
}

/// `a * b` for non-NaN operands, in integer arithmetic.
fn mul_exact<F: Format>(a: u64, b: u64, de: bool, env: &mut Env) -> u64 {
    let sign = (a ^ b) & F::SIGN != 0;
    let (ai, bi, az, bz) = (
        is_inf::<F>(a),
        is_inf::<F>(b),
        is_zero::<F>(a),
        is_zero::<F>(b),
    );
    if (ai && bz) || (bi && az) {
        return invalid::<F>(env);
    }
    denormal_flag(de, env);
    if ai || bi {
        return zero::<F>(sign) | F::INF;
    }
    if az || bz {
        return zero::<F>(sign);
    }
    let (x, y) = (unpack::<F>(a), unpack::<F>(b));
    round_pack::<F>(sign, x.exp + y.exp, x.sig * y.sig, env)
}

/// `a / b`, SSE semantics.
pub fn div<F: Format>(a: u64, b: u64, env: &mut Env) -> u64 {
    let (a, da) = daz::<F>(a, env);
    let (b, db) = daz::<F>(b, env);
    if let Some(n) = propagate2::<F>(a, b, env) {
        return n;
    }
    let fast = env.rc == Rc::Nearest && normal::<F>(a) && normal::<F>(b);
    if let Some(r) = host_fast(fast, env, |pe| F::host_div(a, b, pe)) {
        return r;
    }
    div_exact::<F>(a, b, da || db, env)
}

/// `a / b` for non-NaN operands, in integer arithmetic.
fn div_exact<F: Format>(a: u64, b: u64, de: bool, env: &mut Env) -> u64 {
    let sign = (a ^ b) & F::SIGN != 0;
    let (ai, bi, az, bz) = (
        is_inf::<F>(a),
        is_inf::<F>(b),
        is_zero::<F>(a),
        is_zero::<F>(b),
    );
    if (ai && bi) || (az && bz) {
        return invalid::<F>(env);
    }
    if bz && !ai {
        env.raise(mx::ZE);
        return zero::<F>(sign) | F::INF;
    }
    denormal_flag(de, env);
    if ai {
        return zero::<F>(sign) | F::INF;
    }
    if bi || az {
        return zero::<F>(sign);
    }
    let x = normalise(unpack::<F>(a), 126);
    let y = unpack::<F>(b);
    let (q, r) = (x.sig / y.sig, x.sig % y.sig);
    round_pack::<F>(sign, x.exp - y.exp - 1, q << 1 | (r != 0) as u128, env)
}

/// `sqrt(a)`, SSE semantics.
pub fn sqrt<F: Format>(a: u64, env: &mut Env) -> u64 {
    let (a, de) = daz::<F>(a, env);
    if is_nan::<F>(a) {
        if is_snan::<F>(a) {
            env.raise(mx::IE);
        }
        return quiet::<F>(a);
    }
    let fast = env.rc == Rc::Nearest && normal::<F>(a) && !neg::<F>(a);
    if let Some(r) = host_fast(fast, env, |pe| F::host_sqrt(a, pe)) {
        return r;
    }
    sqrt_exact::<F>(a, de, env)
}

/// `sqrt(a)` for a non-NaN operand, in integer arithmetic.
fn sqrt_exact<F: Format>(a: u64, de: bool, env: &mut Env) -> u64 {
    if is_zero::<F>(a) {
        return a;
    }
    if neg::<F>(a) {
        return invalid::<F>(env);
    }
    denormal_flag(de, env);
    if is_inf::<F>(a) {
        return a;
    }
    let u = unpack::<F>(a);
    let msb = 127 - u.sig.leading_zeros() as i32;
    let mut sh = 116 - msb;
    if (u.exp - sh) & 1 != 0 {
        sh += 1;
    }
    let m = u.sig << sh;
    let r = isqrt(m);
    let sticky = r * r != m;
    round_pack::<F>(false, (u.exp - sh) / 2 - 1, r << 1 | sticky as u128, env)
}

/// MINSS/MAXSS and the packed forms: the second operand when either is a NaN
/// (raising IE even for a quiet NaN) or when both are zeros; no NaN is quieted.
pub fn min_max<F: Format>(a: u64, b: u64, max: bool, env: &mut Env) -> u64 {
    let (a, da) = daz::<F>(a, env);
    let (b, db) = daz::<F>(b, env);
    if is_nan::<F>(a) || is_nan::<F>(b) {
        env.raise(mx::IE);
        return b;
    }
    denormal_flag(da || db, env);
    let take_a = if max {
        less::<F>(b, a)
    } else {
        less::<F>(a, b)
    };
    if take_a { a } else { b }
}

/// Ordered `a < b` for non-NaN values (±0 compare equal).
#[inline(always)]
fn less<F: Format>(a: u64, b: u64) -> bool {
    key::<F>(a) < key::<F>(b)
}

/// A monotonic integer key of a non-NaN value (both zeros map to 0).
#[inline(always)]
fn key<F: Format>(a: u64) -> i64 {
    let mag = (a & !F::SIGN) as i64;
    if neg::<F>(a) { -mag } else { mag }
}

/// Outcome of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// a < b.
    Less,
    /// a == b.
    Equal,
    /// a > b.
    Greater,
    /// At least one NaN.
    Unordered,
}

/// Compares `a` with `b`. `signalling`: any NaN raises IE (COMISS, CMPLTPS, ...);
/// otherwise only an SNaN does (UCOMISS, CMPEQPS, ...).
pub fn compare<F: Format>(a: u64, b: u64, signalling: bool, env: &mut Env) -> Cmp {
    let (a, da) = daz::<F>(a, env);
    let (b, db) = daz::<F>(b, env);
    if is_nan::<F>(a) || is_nan::<F>(b) {
        if signalling || is_snan::<F>(a) || is_snan::<F>(b) {
            env.raise(mx::IE);
        }
        return Cmp::Unordered;
    }
    denormal_flag(da || db, env);
    let (x, y) = (key::<F>(a), key::<F>(b));
    match x.cmp(&y) {
        std::cmp::Ordering::Less => Cmp::Less,
        std::cmp::Ordering::Equal => Cmp::Equal,
        std::cmp::Ordering::Greater => Cmp::Greater,
    }
}

/// CMPPS/CMPSS predicate `pred` (0..7: EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD).
pub fn cmp_predicate<F: Format>(a: u64, b: u64, pred: u8, env: &mut Env) -> bool {
    let signalling = matches!(pred & 7, 1 | 2 | 5 | 6);
    let c = compare::<F>(a, b, signalling, env);
    match pred & 7 {
        0 => c == Cmp::Equal,
        1 => c == Cmp::Less,
        2 => matches!(c, Cmp::Less | Cmp::Equal),
        3 => c == Cmp::Unordered,
        4 => c != Cmp::Equal,
        5 => c != Cmp::Less,
        6 => !matches!(c, Cmp::Less | Cmp::Equal),
        _ => c != Cmp::Unordered,
    }
}

// ---------------------------------------------------------------------------
// Conversions

/// Converts between formats (CVTSS2SD, CVTSD2SS and the packed forms). A NaN
/// keeps its sign and the top bits of its payload and is quieted.
pub fn convert<From: Format, To: Format>(a: u64, env: &mut Env) -> u64 {
    if normal::<From>(a) {
        // Fast paths: widening a normal value is exact; narrowing in round-to-
        // nearest mode into the normal range is the host's correctly rounded
        // conversion.
        if From::BITS == 32 && To::BITS == 64 {
            return (f32::from_bits(a as u32) as f64).to_bits();
        }
        if From::BITS == 64 && To::BITS == 32 && env.rc == Rc::Nearest {
            let x = f64::from_bits(a);
            let r = x as f32;
            if band32(r) {
                if env.want_pe && r as f64 != x {
                    env.raise(mx::PE);
                }
                return r.to_bits() as u64;
            }
        }
    }
    let (a, de) = daz::<From>(a, env);
    denormal_flag(de, env);
    let sign = neg::<From>(a);
    if is_nan::<From>(a) {
        if is_snan::<From>(a) {
            env.raise(mx::IE);
        }
        let frac = a & From::FRAC;
        let payload = if To::MANT >= From::MANT {
            frac << (To::MANT - From::MANT)
        } else {
            frac >> (From::MANT - To::MANT)
        };
        return zero::<To>(sign) | To::INF | To::QUIET | payload;
    }
    if is_inf::<From>(a) {
        return zero::<To>(sign) | To::INF;
    }
    if is_zero::<From>(a) {
        return zero::<To>(sign);
    }
    let u = unpack::<From>(a);
    round_pack::<To>(u.sign, u.exp, u.sig, env)
}

/// Converts a signed integer (CVTSI2SS/SD, CVTDQ2PS/PD).
pub fn from_int<F: Format>(v: i64, env: &mut Env) -> u64 {
    // Integers of up to MANT + 1 bits convert exactly (any rounding mode).
    if v.unsigned_abs() < 1 << (F::MANT + 1) {
        return if F::BITS == 32 {
            (v as f32).to_bits() as u64
        } else {
            (v as f64).to_bits()
        };
    }
    round_pack::<F>(v < 0, 0, v.unsigned_abs() as u128, env)
}

/// Converts to a signed integer of `bits` (32 or 64) bits with rounding mode
/// `rc` (CVTSS2SI uses MXCSR.RC, CVTTSS2SI truncates). NaNs and values out of
/// range give the integer indefinite (only the sign bit set) and raise IE.
pub fn to_int<F: Format>(a: u64, bits: u32, rc: Rc, env: &mut Env) -> u64 {
    let (a, _) = daz::<F>(a, env);
    let indefinite = 1u64 << (bits - 1);
    if is_nan::<F>(a) || is_inf::<F>(a) {
        env.raise(mx::IE);
        return indefinite;
    }
    if is_zero::<F>(a) {
        return 0;
    }
    let u = unpack::<F>(a);
    let top = u.exp + (127 - u.sig.leading_zeros() as i32);
    if top >= bits as i32 {
        // |a| >= 2^bits: out of range whatever the rounding.
        env.raise(mx::IE);
        return indefinite;
    }
    let (m, inexact) = round_shift(u.sig, -u.exp, u.sign, rc);
    let limit = if u.sign {
        1u128 << (bits - 1)
    } else {
        (1u128 << (bits - 1)) - 1
    };
    if m > limit {
        env.raise(mx::IE);
        return indefinite;
    }
    if inexact {
        env.raise(mx::PE);
    }
    let v = if u.sign {
        (m as u64).wrapping_neg()
    } else {
        m as u64
    };
    if bits == 32 { v & 0xffff_ffff } else { v }
}

/// Rounds to an integral value in the same format (ROUNDSS/ROUNDPS). PE is
/// raised for an inexact result unless `suppress_pe`.
pub fn round_int<F: Format>(a: u64, rc: Rc, suppress_pe: bool, env: &mut Env) -> u64 {
    let (a, _) = daz::<F>(a, env);
    if is_nan::<F>(a) {
        if is_snan::<F>(a) {
            env.raise(mx::IE);
        }
        return quiet::<F>(a);
    }
    if is_inf::<F>(a) || is_zero::<F>(a) || exp_field::<F>(a) as i32 >= F::BIAS + F::MANT as i32 {
        return a;
    }
    let u = unpack::<F>(a);
    let (m, inexact) = round_shift(u.sig, -u.exp, u.sign, rc);
    if inexact && !suppress_pe {
        env.raise(mx::PE);
    }
    if m == 0 {
        return zero::<F>(u.sign);
    }
    // m <= 2^MANT, so this is exact.
    let mut e2 = env.with_rc(Rc::Zero);
    round_pack::<F>(u.sign, 0, m, &mut e2)
}

/// Approximate reciprocal (RCPSS/RCPPS): x64vm returns the correctly rounded
/// reciprocal with its fraction truncated to 12 bits (relative error below
/// 2^-12 (1 + 2^-10), within the SDM's bound of 1.5 * 2^-12). Denormal inputs
/// read as zero and tiny results flush to zero, as on hardware; no flags are
/// raised.
pub fn rcp32(a: u32) -> u32 {
    let a = a as u64;
    let sign = a & F32::SIGN;
    if is_nan::<F32>(a) {
        return quiet::<F32>(a) as u32;
    }
    if is_zero::<F32>(a) || is_denormal::<F32>(a) {
        return (sign | F32::INF) as u32;
    }
    if is_inf::<F32>(a) {
        return sign as u32;
    }
    let mut env = Env::new(mx::DEFAULT | mx::FTZ);
    let r = div::<F32>(0x3f80_0000, a & !F32::SIGN, &mut env);
    (truncate12(r) | sign) as u32
}

/// Approximate reciprocal square root (RSQRTSS/RSQRTPS), built like [`rcp32`].
pub fn rsqrt32(a: u32) -> u32 {
    let a = a as u64;
    let sign = a & F32::SIGN;
    if is_nan::<F32>(a) {
        return quiet::<F32>(a) as u32;
    }
    if is_zero::<F32>(a) || is_denormal::<F32>(a) {
        return (sign | F32::INF) as u32;
    }
    if sign != 0 {
        return F32::DEFAULT_NAN as u32;
    }
    if is_inf::<F32>(a) {
        return 0;
    }
    let mut env = Env::new(mx::DEFAULT | mx::FTZ);
    let s = sqrt::<F32>(a, &mut env);
    let r = div::<F32>(0x3f80_0000, s, &mut env);
    truncate12(r) as u32
}

/// Keeps the top 12 fraction bits of a binary32 value.
fn truncate12(r: u64) -> u64 {
    if is_denormal::<F32>(r) {
        r & F32::SIGN
    } else {
        r & !0x7ff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::new(mx::DEFAULT)
    }

    fn d(x: f64) -> u64 {
        x.to_bits()
    }

    #[test]
    fn add_matches_host_in_nearest_mode() {
        let vals = [
            1.0, -1.0, 0.1, 3.5e300, -2.2e-308, 5e-324, 1e-310, 7.0, 1e16, -0.0, 0.0,
        ];
        for &x in &vals {
            for &y in &vals {
                let mut e = env();
                assert_eq!(add::<F64>(d(x), d(y), false, &mut e), d(x + y), "{x} + {y}");
                let mut e = env();
                assert_eq!(mul::<F64>(d(x), d(y), &mut e), d(x * y), "{x} * {y}");
                if y != 0.0 {
                    let mut e = env();
                    assert_eq!(div::<F64>(d(x), d(y), &mut e), d(x / y), "{x} / {y}");
                }
            }
        }
    }

    /// The integer paths must agree with the host's correctly rounded results,
    /// including the inexact flag derived from exact residuals.
    #[test]
    fn exact_paths_agree_with_fast_paths() {
        let mut s = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            // Bias exponents towards a narrow band so results stay normal.
            (s & !(0x3ffu64 << 53)) | ((s >> 7) & (0x1u64 << 62))
        };
        let mut checked = 0;
        for _ in 0..50000 {
            let (a, b) = (next(), next());
            let (a32, b32) = (a >> 32 & 0xbfff_ffff, a & 0xbfff_ffff);
            type Op = fn(u64, u64, &mut Env) -> u64;
            let pairs: [(Op, Op, u64, u64, bool); 8] = [
                (
                    |x, y, e| add::<F64>(x, y, false, e),
                    |x, y, e| add_exact::<F64>(x, y, false, e),
                    a,
                    b,
                    false,
                ),
                (
                    mul::<F64>,
                    |x, y, e| mul_exact::<F64>(x, y, false, e),
                    a,
                    b,
                    false,
                ),
                (
                    div::<F64>,
                    |x, y, e| div_exact::<F64>(x, y, false, e),
                    a,
                    b,
                    false,
                ),
                (
                    |x, _, e| sqrt::<F64>(x, e),
                    |x, _, e| sqrt_exact::<F64>(x, false, e),
                    a & !F64::SIGN,
                    0,
                    false,
                ),
                (
                    |x, y, e| add::<F32>(x, y, false, e),
                    |x, y, e| add_exact::<F32>(x, y, false, e),
                    a32,
                    b32,
                    true,
                ),
                (
                    mul::<F32>,
                    |x, y, e| mul_exact::<F32>(x, y, false, e),
                    a32,
                    b32,
                    true,
                ),
                (
                    div::<F32>,
                    |x, y, e| div_exact::<F32>(x, y, false, e),
                    a32,
                    b32,
                    true,
                ),
                (
                    |x, _, e| sqrt::<F32>(x, e),
                    |x, _, e| sqrt_exact::<F32>(x, false, e),
                    a32 & 0x7fff_ffff,
                    0,
                    true,
                ),
            ];
            for (fast, exact, x, y, single) in pairs {
                let ok = if single {
                    normal::<F32>(x) && (normal::<F32>(y) || y == 0)
                } else {
                    normal::<F64>(x) && (normal::<F64>(y) || y == 0)
                };
                if !ok {
                    continue;
                }
                let (mut e1, mut e2) = (env(), env());
                let r1 = fast(x, y, &mut e1);
                let r2 = exact(x, y, &mut e2);
                assert_eq!(
                    (r1, e1.flags),
                    (r2, e2.flags),
                    "{x:#x} {y:#x} single={single}"
                );
                checked += 1;
            }
        }
        assert!(checked > 50000, "{checked}");
    }

    #[test]
    fn nan_rules() {
        let snan = 0x7ff0_0000_0000_0001;
        let qnan = 0xfff8_0000_0000_0002;
        let mut e = env();
        assert_eq!(add::<F64>(snan, qnan, false, &mut e), 0x7ff8_0000_0000_0001);
        assert_eq!(e.flags, mx::IE);
        let mut e = env();
        assert_eq!(add::<F64>(d(1.0), qnan, true, &mut e), qnan);
        assert_eq!(e.flags, 0);
        let mut e = env();
        assert_eq!(
            add::<F64>(d(f64::INFINITY), d(f64::NEG_INFINITY), false, &mut e),
            F64::DEFAULT_NAN
        );
        assert_eq!(e.flags, mx::IE);
        let mut e = env();
        assert_eq!(min_max::<F64>(qnan, d(1.0), false, &mut e), d(1.0));
        assert_eq!(e.flags, mx::IE);
        let mut e = env();
        assert_eq!(min_max::<F64>(d(0.0), d(-0.0), true, &mut e), d(-0.0));
    }

    #[test]
    fn conversions_and_rounding_modes() {
        let mut e = env();
        assert_eq!(
            to_int::<F64>(d(2147483647.5), 32, Rc::Nearest, &mut e),
            0x8000_0000
        );
        assert_eq!(e.flags, mx::IE);
        let mut e = env();
        assert_eq!(
            to_int::<F64>(d(-2147483648.9), 32, Rc::Zero, &mut e),
            0x8000_0000
        );
        assert_eq!(e.flags, mx::PE);
        let mut e = env();
        assert_eq!(to_int::<F64>(d(2.5), 64, Rc::Nearest, &mut e), 2);
        let mut e = env().with_rc(Rc::Up);
        assert_eq!(
            add::<F64>(d(1.0), d(1e-30), false, &mut e),
            d(1.0f64.next_up())
        );
        let mut e = env().with_rc(Rc::Zero);
        assert_eq!(mul::<F64>(d(f64::MAX), d(2.0), &mut e), d(f64::MAX));
        assert_eq!(e.flags, mx::OE | mx::PE);
        let mut e = env();
        assert_eq!(sqrt::<F64>(d(2.0), &mut e), d(2f64.sqrt()));
        assert_eq!(e.flags, mx::PE);
        let mut e = env();
        assert_eq!(sqrt::<F64>(d(1e-310), &mut e), d(1e-310f64.sqrt()));
        assert_eq!(isqrt(1 << 100), 1 << 50);
        assert_eq!(isqrt((1 << 100) - 1), (1 << 50) - 1);
    }
}
