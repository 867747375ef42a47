//! x87 FPU state: eight 80-bit registers used as a stack, the control word, the
//! status word and the tag word.
//!
//! Registers hold raw 80-bit patterns ([`F80`]); all arithmetic on them is done in
//! software (`isa::x87`), never with host floating point, so every host computes
//! the same bits.

/// An 80-bit extended-precision value exactly as x87 stores it: a 64-bit
/// significand with an explicit integer bit and a sign-and-exponent word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct F80 {
    /// Significand; bit 63 is the explicit integer bit.
    pub mant: u64,
    /// Bit 15: sign; bits 14..0: biased exponent (bias 16383).
    pub se: u16,
}

impl F80 {
    /// +0.0.
    pub const ZERO: F80 = F80 { mant: 0, se: 0 };
    /// +1.0.
    pub const ONE: F80 = F80 {
        mant: 1 << 63,
        se: 0x3fff,
    };
    /// The default NaN x87 produces for invalid operations ("real indefinite"):
    /// negative, quiet, significand `0xC000000000000000`.
    pub const INDEFINITE: F80 = F80 {
        mant: 0xc000_0000_0000_0000,
        se: 0xffff,
    };

    /// Builds a value from its 80-bit pattern (the low 80 bits of `bits`).
    pub const fn from_bits(bits: u128) -> F80 {
        F80 {
            mant: bits as u64,
            se: (bits >> 64) as u16,
        }
    }

    /// The 80-bit pattern.
    pub const fn to_bits(self) -> u128 {
        (self.se as u128) << 64 | self.mant as u128
    }

    /// The 10 bytes as stored in memory (little-endian).
    pub fn to_le_bytes(self) -> [u8; 10] {
        let mut b = [0u8; 10];
        b[..8].copy_from_slice(&self.mant.to_le_bytes());
        b[8..].copy_from_slice(&self.se.to_le_bytes());
        b
    }

    /// Reads 10 little-endian bytes.
    pub fn from_le_bytes(b: [u8; 10]) -> F80 {
        let mut m = [0u8; 8];
        m.copy_from_slice(&b[..8]);
        F80 {
            mant: u64::from_le_bytes(m),
            se: u16::from_le_bytes([b[8], b[9]]),
        }
    }

    /// The sign bit.
    pub const fn sign(self) -> bool {
        self.se & 0x8000 != 0
    }

    /// The biased exponent field.
    pub const fn exp(self) -> u16 {
        self.se & 0x7fff
    }
}

/// Status-word bits (TOP lives separately in [`X87::top`]).
pub mod sw {
    /// Invalid operation.
    pub const IE: u16 = 1 << 0;
    /// Denormal operand.
    pub const DE: u16 = 1 << 1;
    /// Zero divide.
    pub const ZE: u16 = 1 << 2;
    /// Overflow.
    pub const OE: u16 = 1 << 3;
    /// Underflow.
    pub const UE: u16 = 1 << 4;
    /// Precision (inexact result).
    pub const PE: u16 = 1 << 5;
    /// Stack fault (with IE; C1 tells overflow from underflow).
    pub const SF: u16 = 1 << 6;
    /// Error summary: an unmasked exception is pending.
    pub const ES: u16 = 1 << 7;
    /// Condition code C0.
    pub const C0: u16 = 1 << 8;
    /// Condition code C1.
    pub const C1: u16 = 1 << 9;
    /// Condition code C2.
    pub const C2: u16 = 1 << 10;
    /// Condition code C3.
    pub const C3: u16 = 1 << 14;
    /// FPU busy (mirrors ES).
    pub const B: u16 = 1 << 15;
    /// The six exception flags.
    pub const EXC: u16 = 0x3f;
    /// The four condition codes.
    pub const CC: u16 = C0 | C1 | C2 | C3;
}

/// The control word after `fninit`: all exceptions masked, 64-bit precision,
/// round to nearest.
pub const DEFAULT_CW: u16 = 0x037f;

/// The x87 register stack and its control and status words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X87 {
    /// Physical registers R0..R7; ST(i) is `regs[(top + i) % 8]`.
    pub regs: [F80; 8],
    /// Stack top (0..7).
    pub top: u8,
    /// Bit `i` set: physical register `i` is in use (tag not "empty"). The
    /// finer tags (valid/zero/special) are derived from the contents when saved.
    pub used: u8,
    /// Control word.
    pub cw: u16,
    /// Status word without TOP (bits 13..11 are kept 0; ES and B are derived).
    pub sw: u16,
}

impl Default for X87 {
    fn default() -> Self {
        X87 {
            regs: [F80::ZERO; 8],
            top: 0,
            used: 0,
            cw: DEFAULT_CW,
            sw: 0,
        }
    }
}

impl X87 {
    /// `fninit`: default control word, clear status, all registers empty. The
    /// register contents stay (as on hardware).
    pub fn init(&mut self) {
        self.cw = DEFAULT_CW;
        self.sw = 0;
        self.top = 0;
        self.used = 0;
    }

    /// Physical index of ST(i).
    #[inline]
    pub fn phys(&self, i: u8) -> usize {
        (self.top.wrapping_add(i) & 7) as usize
    }

    /// ST(i) (whatever the register holds, even when empty).
    #[inline]
    pub fn st(&self, i: u8) -> F80 {
        self.regs[self.phys(i)]
    }

    /// Whether ST(i) is empty.
    #[inline]
    pub fn is_empty(&self, i: u8) -> bool {
        self.used & (1 << self.phys(i)) == 0
    }

    /// Writes ST(i) and marks it in use.
    #[inline]
    pub fn set_st(&mut self, i: u8, v: F80) {
        let p = self.phys(i);
        self.regs[p] = v;
        self.used |= 1 << p;
    }

    /// Whether an unmasked exception is pending (ES).
    #[inline]
    pub fn pending(&self) -> bool {
        self.sw & !self.cw & sw::EXC != 0
    }

    /// The architectural status word: flags, TOP, and ES/B derived from the
    /// exception flags and masks.
    pub fn status_word(&self) -> u16 {
        let es = if self.pending() { sw::ES | sw::B } else { 0 };
        (self.sw & !(0x3800 | sw::ES | sw::B)) | ((self.top as u16 & 7) << 11) | es
    }

    /// Loads the status word (TOP included; ES and B are derived, not stored).
    pub fn set_status_word(&mut self, v: u16) {
        self.top = ((v >> 11) & 7) as u8;
        self.sw = v & !(0x3800 | sw::ES | sw::B);
    }

    /// The full tag word as `fnstenv` stores it: two bits per physical register,
    /// 00 valid, 01 zero, 10 special (NaN, infinity, denormal, unsupported), 11 empty.
    pub fn tag_word(&self) -> u16 {
        (0..8).fold(0u16, |t, p| {
            let tag = if self.used & (1 << p) == 0 {
                3
            } else {
                let v = self.regs[p];
                match (v.exp(), v.mant) {
                    (0, 0) => 1,
                    (0, _) | (0x7fff, _) => 2,
                    (_, m) if m >> 63 == 0 => 2,
                    _ => 0,
                }
            };
            t | tag << (2 * p)
        })
    }

    /// Loads a full tag word: only "empty" (11) matters, the rest is derived
    /// from register contents (as current hardware does).
    pub fn set_tag_word(&mut self, tw: u16) {
        self.used = (0..8).fold(0u8, |u, p| {
            if (tw >> (2 * p)) & 3 == 3 {
                u
            } else {
                u | 1 << p
            }
        });
    }
}
