//! CPU state: general registers, RIP, segment bases, SSE registers and lazily
//! computed arithmetic flags.
//!
//! Flags are lazy: arithmetic records its operands, result and width, and each
//! flag is derived only when something reads it (a `jcc`, `setcc`, `pushf`, ...).
//! Most flag results are overwritten before anyone looks at them, so this saves
//! the bulk of flag work.

/// RFLAGS bits.
pub mod flag {
    /// Carry.
    pub const CF: u64 = 1 << 0;
    /// Parity of the low result byte.
    pub const PF: u64 = 1 << 2;
    /// Auxiliary carry (bit 3 to 4).
    pub const AF: u64 = 1 << 4;
    /// Zero.
    pub const ZF: u64 = 1 << 6;
    /// Sign.
    pub const SF: u64 = 1 << 7;
    /// Interrupt enable (always reads as set in user mode).
    pub const IF: u64 = 1 << 9;
    /// Direction.
    pub const DF: u64 = 1 << 10;
    /// Overflow.
    pub const OF: u64 = 1 << 11;
    /// The six arithmetic status flags.
    pub const STATUS: u64 = CF | PF | AF | ZF | SF | OF;
    /// Bits user code may change through `popf`: status flags and DF (plus AC and ID,
    /// which x64vm keeps as plain bits).
    pub const USER_WRITABLE: u64 = STATUS | DF | (1 << 18) | (1 << 21);
}

/// How the current status flags are to be derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FlagOp {
    /// `aux` holds the materialised status bits.
    Raw,
    /// `res = a + b`.
    Add,
    /// `res = a + b + aux` (aux = carry in).
    Adc,
    /// `res = a - b`.
    Sub,
    /// `res = a - b - aux` (aux = borrow in).
    Sbb,
    /// Logical op: CF = OF = 0, AF = 0 (documented choice for the undefined AF).
    Logic,
    /// `res = a + 1`; CF preserved in aux.
    Inc,
    /// `res = a - 1`; CF preserved in aux.
    Dec,
}

/// Mask of the low `size` bytes.
#[inline(always)]
pub fn mask(size: u8) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (size as u32 * 8)) - 1
    }
}

/// The sign bit of a `size`-byte value.
#[inline(always)]
pub fn sign_bit(size: u8) -> u64 {
    1u64 << (size as u32 * 8 - 1)
}

/// Sign-extends the low `size` bytes of `v`.
#[inline(always)]
pub fn sext(v: u64, size: u8) -> i64 {
    let sh = 64 - size as u32 * 8;
    ((v << sh) as i64) >> sh
}

/// Register numbers 16..=19 name AH, CH, DH, BH.
pub const HIGH_BYTE_BASE: u8 = 16;

/// Architectural state of one guest CPU.
#[derive(Clone, Debug)]
pub struct Cpu {
    /// RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 (hardware order).
    pub gpr: [u64; 16],
    /// Instruction pointer (valid between blocks and at traps).
    pub rip: u64,
    /// FS segment base (TLS).
    pub fs_base: u64,
    /// GS segment base.
    pub gs_base: u64,
    /// XMM0..XMM15.
    pub xmm: [u128; 16],
    /// SSE control/status.
    pub mxcsr: u32,
    /// x87 FPU registers, control and status.
    pub x87: crate::cpu_x87::X87,
    /// Instructions retired so far, counted per block (drives `rdtsc`).
    pub retired: u64,
    /// Gas remaining. Kept here so handlers with dynamic costs (`rep`) can charge it.
    pub gas: u64,
    fop: FlagOp,
    fsize: u8,
    fa: u64,
    fb: u64,
    fres: u64,
    faux: u64,
    /// RFLAGS bits that are not status flags (DF, IF, bit 1, ...).
    other: u64,
    // Interpreter scratch (see `interp`), kept here because the CPU is the one
    // thing every threaded handler has at hand. Not architectural state.
    /// Cache index of the block-ending instruction that last returned to the loop.
    pub(crate) link_from: u32,
    /// Linked blocks that may still run before control returns to the loop.
    pub(crate) chain_left: u32,
    /// Address of the instruction that left the loop with a host call.
    pub(crate) exit_at: u64,
    /// Cache index of the instruction the loop resumes a block at (builds with
    /// debug assertions, and after compiled code hands a block over), or `u32::MAX`.
    pub(crate) resume: u32,
    /// Status flags going into and coming out of compiled code (see `jit`).
    pub(crate) jit_flags: u64,
    /// The guest base address and page count of the memory compiled code runs
    /// on, set on every entry (see `jit`).
    pub(crate) jit_mem: [u64; 2],
}

impl Default for Cpu {
    fn default() -> Self {
        Cpu {
            gpr: [0; 16],
            rip: 0,
            fs_base: 0,
            gs_base: 0,
            xmm: [0; 16],
            mxcsr: 0x1f80,
            x87: Default::default(),
            retired: 0,
            gas: 0,
            fop: FlagOp::Raw,
            fsize: 8,
            fa: 0,
            fb: 0,
            fres: 0,
            faux: 0,
            other: 0x202,
            link_from: u32::MAX,
            chain_left: 0,
            exit_at: 0,
            resume: u32::MAX,
            jit_flags: 0,
            jit_mem: [0; 2],
        }
    }
}

/// Register indices in hardware order.
pub mod reg {
    #![allow(missing_docs)]
    pub const RAX: usize = 0;
    pub const RCX: usize = 1;
    pub const RDX: usize = 2;
    pub const RBX: usize = 3;
    pub const RSP: usize = 4;
    pub const RBP: usize = 5;
    pub const RSI: usize = 6;
    pub const RDI: usize = 7;
    pub const R8: usize = 8;
    pub const R9: usize = 9;
    /// Names for traces, in hardware order.
    pub const NAMES: [&str; 16] = [
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15",
    ];
}

impl Cpu {
    /// Reads register `r` (0..15, or 16..19 for AH..BH) at `size` bytes, zero-extended.
    #[inline(always)]
    pub fn read_reg(&self, r: u8, size: u8) -> u64 {
        if r >= HIGH_BYTE_BASE {
            return (self.gpr[(r - HIGH_BYTE_BASE) as usize & 3] >> 8) & 0xff;
        }
        self.gpr[r as usize & 15] & mask(size)
    }

    /// Writes register `r` at `size` bytes with x86 rules: 32-bit writes zero the
    /// upper half, 8- and 16-bit writes merge.
    #[inline(always)]
    pub fn write_reg(&mut self, r: u8, size: u8, v: u64) {
        if r >= HIGH_BYTE_BASE {
            let g = &mut self.gpr[(r - HIGH_BYTE_BASE) as usize & 3];
            *g = (*g & !0xff00) | ((v & 0xff) << 8);
            return;
        }
        let g = &mut self.gpr[r as usize & 15];
        *g = match size {
            8 => v,
            4 => v & 0xffff_ffff,
            2 => (*g & !0xffff) | (v & 0xffff),
            _ => (*g & !0xff) | (v & 0xff),
        };
    }

    /// Records flags of a lazily evaluated operation.
    #[inline(always)]
    pub fn set_flags(&mut self, op: FlagOp, size: u8, a: u64, b: u64, res: u64) {
        self.fop = op;
        self.fsize = size;
        self.fa = a;
        self.fb = b;
        self.fres = res;
    }

    /// Records flags of `adc`/`sbb` with their carry in.
    #[inline(always)]
    pub fn set_flags_carry(&mut self, op: FlagOp, size: u8, a: u64, b: u64, res: u64, cin: bool) {
        self.set_flags(op, size, a, b, res);
        self.faux = cin as u64;
    }

    /// Records flags of `inc`/`dec`, which keep CF.
    #[inline(always)]
    pub fn set_flags_incdec(&mut self, op: FlagOp, size: u8, a: u64, res: u64) {
        let cf = self.cf() as u64;
        self.set_flags(op, size, a, 1, res);
        self.faux = cf;
    }

    /// Sets the six status flags to explicit values.
    #[inline]
    pub fn set_status(&mut self, bits: u64) {
        self.fop = FlagOp::Raw;
        self.faux = bits & flag::STATUS;
    }

    /// Sets CF only, keeping the other status flags.
    #[inline]
    pub fn set_cf(&mut self, cf: bool) {
        let s = (self.status() & !flag::CF) | cf as u64;
        self.set_status(s);
    }

    /// Carry flag.
    #[inline(always)]
    pub fn cf(&self) -> bool {
        let m = mask(self.fsize);
        let (a, b, r) = (self.fa & m, self.fb & m, self.fres & m);
        match self.fop {
            FlagOp::Raw => self.faux & flag::CF != 0,
            FlagOp::Add => r < a,
            FlagOp::Adc => r < a || (self.faux != 0 && r == a),
            FlagOp::Sub => a < b,
            FlagOp::Sbb => a < b || (self.faux != 0 && a == b),
            FlagOp::Logic => false,
            FlagOp::Inc | FlagOp::Dec => self.faux != 0,
        }
    }

    /// Zero flag.
    #[inline(always)]
    pub fn zf(&self) -> bool {
        match self.fop {
            FlagOp::Raw => self.faux & flag::ZF != 0,
            _ => self.fres & mask(self.fsize) == 0,
        }
    }

    /// Sign flag.
    #[inline(always)]
    pub fn sf(&self) -> bool {
        match self.fop {
            FlagOp::Raw => self.faux & flag::SF != 0,
            _ => self.fres & sign_bit(self.fsize) != 0,
        }
    }

    /// Overflow flag.
    #[inline(always)]
    pub fn of(&self) -> bool {
        let sb = sign_bit(self.fsize);
        let (a, b, r) = (self.fa, self.fb, self.fres);
        match self.fop {
            FlagOp::Raw => self.faux & flag::OF != 0,
            FlagOp::Add | FlagOp::Adc | FlagOp::Inc => (a ^ r) & (b ^ r) & sb != 0,
            FlagOp::Sub | FlagOp::Sbb | FlagOp::Dec => (a ^ b) & (a ^ r) & sb != 0,
            FlagOp::Logic => false,
        }
    }

    /// Parity flag (even number of set bits in the low result byte).
    #[inline(always)]
    pub fn pf(&self) -> bool {
        match self.fop {
            FlagOp::Raw => self.faux & flag::PF != 0,
            _ => (self.fres as u8).count_ones().is_multiple_of(2),
        }
    }

    /// Auxiliary carry flag.
    #[inline(always)]
    pub fn af(&self) -> bool {
        match self.fop {
            FlagOp::Raw => self.faux & flag::AF != 0,
            FlagOp::Logic => false,
            _ => (self.fa ^ self.fb ^ self.fres) & 0x10 != 0,
        }
    }

    /// The six status flags as RFLAGS bits.
    pub fn status(&self) -> u64 {
        if self.fop == FlagOp::Raw {
            return self.faux;
        }
        (self.cf() as u64)
            | (self.pf() as u64) << 2
            | (self.af() as u64) << 4
            | (self.zf() as u64) << 6
            | (self.sf() as u64) << 7
            | (self.of() as u64) << 11
    }

    /// The whole RFLAGS register.
    pub fn rflags(&self) -> u64 {
        self.other | self.status()
    }

    /// Loads RFLAGS; only user-writable bits change, bit 1 and IF stay set.
    pub fn set_rflags(&mut self, v: u64) {
        self.set_status(v & flag::STATUS);
        self.other = (v & flag::USER_WRITABLE & !flag::STATUS) | 0x202;
    }

    /// Direction flag.
    #[inline(always)]
    pub fn df(&self) -> bool {
        self.other & flag::DF != 0
    }

    /// Sets or clears the direction flag.
    pub fn set_df(&mut self, on: bool) {
        if on {
            self.other |= flag::DF;
        } else {
            self.other &= !flag::DF;
        }
    }

    /// Evaluates condition code `cc` (0 = O ... 15 = G, the x86 `tttn` encoding).
    #[inline(always)]
    pub fn cond(&self, cc: u8) -> bool {
        // Fast paths for the overwhelmingly common cmp/test + jcc pairs.
        if self.fop == FlagOp::Sub {
            let m = mask(self.fsize);
            let (a, b) = (self.fa & m, self.fb & m);
            let (sa, sb) = (sext(a, self.fsize), sext(b, self.fsize));
            match cc {
                2 => return a < b,
                3 => return a >= b,
                4 => return a == b,
                5 => return a != b,
                6 => return a <= b,
                7 => return a > b,
                12 => return sa < sb,
                13 => return sa >= sb,
                14 => return sa <= sb,
                15 => return sa > sb,
                _ => {}
            }
        }
        let r = match cc >> 1 {
            0 => self.of(),
            1 => self.cf(),
            2 => self.zf(),
            3 => self.cf() || self.zf(),
            4 => self.sf(),
            5 => self.pf(),
            6 => self.sf() != self.of(),
            _ => self.zf() || (self.sf() != self.of()),
        };
        r ^ (cc & 1 != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_views() {
        let mut c = Cpu::default();
        c.gpr[0] = 0x1122_3344_5566_7788;
        assert_eq!(c.read_reg(16, 1), 0x77);
        c.write_reg(16, 1, 0xab);
        assert_eq!(c.gpr[0], 0x1122_3344_5566_ab88);
        c.write_reg(0, 2, 0xffff_1234);
        assert_eq!(c.gpr[0], 0x1122_3344_5566_1234);
        c.write_reg(0, 4, 0xdead_beef);
        assert_eq!(c.gpr[0], 0xdead_beef);
    }

    #[test]
    fn lazy_flags_of_sub_match_hardware_rules() {
        let mut c = Cpu::default();
        c.set_flags(FlagOp::Sub, 1, 0x80, 1, 0x7f);
        assert!(c.of() && !c.cf() && !c.zf() && !c.sf());
        assert!(c.cond(13) == (c.sf() == c.of()));
        c.set_flags(FlagOp::Sub, 8, 0, 1, u64::MAX);
        assert!(c.cf() && c.sf() && !c.of());
        assert_eq!(c.cond(2), c.cf());
        assert_eq!(c.cond(12), c.sf() != c.of());
    }

    #[test]
    fn rflags_roundtrip_keeps_fixed_bits() {
        let mut c = Cpu::default();
        c.set_rflags(u64::MAX);
        assert_eq!(c.rflags() & 0x2, 0x2);
        assert_eq!(c.rflags() & flag::STATUS, flag::STATUS);
        assert!(c.df());
    }
}
