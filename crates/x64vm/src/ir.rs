//! The decoded form the interpreter runs: one [`Inst`] per guest instruction,
//! built once per basic block by `translate` and cached.

/// Where an operand lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Loc {
    /// No operand.
    None,
    /// A general register (`reg` field; 16..19 are AH..BH).
    Reg,
    /// The instruction's single memory operand.
    Mem,
    /// The immediate (`imm` field).
    Imm,
    /// An XMM register.
    Xmm,
}

/// "No register" in the base/index fields.
pub const NO_REG: u8 = 0xff;

/// Segment override of a memory operand.
pub mod seg {
    /// No base (DS, ES, SS, CS are flat).
    pub const NONE: u8 = 0;
    /// FS base (thread-local storage).
    pub const FS: u8 = 1;
    /// GS base.
    pub const GS: u8 = 2;
}

/// Repeat prefix of a string instruction.
pub mod rep {
    /// Execute once.
    pub const NONE: u8 = 0;
    /// `rep` / `repe`.
    pub const REPE: u8 = 1;
    /// `repne`.
    pub const REPNE: u8 = 2;
}

macro_rules! ops {
    ($($(#[$m:meta])* $name:ident = $gas:expr,)*) => {
        /// Internal operation codes. Operand shapes and sizes live in [`Inst`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Op { $($(#[$m])* $name,)* }

        impl Op {
            /// Every op, in declaration order.
            pub const ALL: &'static [Op] = &[$(Op::$name,)*];

            /// Base gas cost of one execution (see docs/gas.md).
            pub const fn gas(self) -> u64 {
                match self { $(Op::$name => $gas,)* }
            }

            /// The op's name as written in docs/gas.md.
            pub const fn name(self) -> &'static str {
                match self { $(Op::$name => stringify!($name),)* }
            }
        }
    };
}

ops! {
    /// An instruction the VM does not implement; traps when reached.
    Unsupported = 1,
    /// No operation (`nop`, `endbr64`, `pause`, prefetches, fences).
    Nop = 1,
    /// `mov` (all forms).
    Mov = 1,
    /// `movzx`.
    Movzx = 1,
    /// `movsx` / `movsxd`.
    Movsx = 1,
    /// `lea`.
    Lea = 1,
    /// `cmovcc`.
    Cmov = 1,
    /// `xchg`.
    Xchg = 2,
    /// `bswap`.
    Bswap = 1,
    /// `push`.
    Push = 1,
    /// `pop`.
    Pop = 1,
    /// `enter imm16, imm8`.
    Enter = 4,
    /// `leave`.
    Leave = 1,
    /// `add`.
    Add = 1,
    /// `adc`.
    Adc = 1,
    /// `sub`.
    Sub = 1,
    /// `sbb`.
    Sbb = 1,
    /// `cmp`.
    Cmp = 1,
    /// `and`.
    And = 1,
    /// `or`.
    Or = 1,
    /// `xor`.
    Xor = 1,
    /// `test`.
    Test = 1,
    /// `inc`.
    Inc = 1,
    /// `dec`.
    Dec = 1,
    /// `neg`.
    Neg = 1,
    /// `not`.
    Not = 1,
    /// `mul r/m` (one operand).
    Mul = 3,
    /// `imul r/m` (one operand).
    Imul1 = 3,
    /// `imul r, r/m` and `imul r, r/m, imm`.
    Imul2 = 3,
    /// `div`.
    Div = 20,
    /// `idiv`.
    Idiv = 20,
    /// `cbw` / `cwde` / `cdqe`.
    SextA = 1,
    /// `cwd` / `cdq` / `cqo`.
    SextD = 1,
    /// `shl` / `sal`.
    Shl = 1,
    /// `shr`.
    Shr = 1,
    /// `sar`.
    Sar = 1,
    /// `rol`.
    Rol = 1,
    /// `ror`.
    Ror = 1,
    /// `rcl`.
    Rcl = 2,
    /// `rcr`.
    Rcr = 2,
    /// `shld`.
    Shld = 2,
    /// `shrd`.
    Shrd = 2,
    /// `bt`.
    Bt = 1,
    /// `bts`.
    Bts = 2,
    /// `btr`.
    Btr = 2,
    /// `btc`.
    Btc = 2,
    /// `bsf`.
    Bsf = 2,
    /// `bsr`.
    Bsr = 2,
    /// `tzcnt`.
    Tzcnt = 2,
    /// `lzcnt`.
    Lzcnt = 2,
    /// `popcnt`.
    Popcnt = 2,
    /// `setcc`.
    Setcc = 1,
    /// `jcc` (target in `imm`).
    Jcc = 1,
    /// `jmp rel`.
    Jmp = 1,
    /// `jmp r/m`.
    JmpInd = 2,
    /// `call rel`.
    Call = 2,
    /// `call r/m`.
    CallInd = 3,
    /// `ret` / `ret imm16`.
    Ret = 2,
    /// `jrcxz` / `jecxz`.
    Jrcxz = 1,
    /// `loop` / `loope` / `loopne` (cc field: 0 plain, 1 e, 2 ne).
    Loop = 2,
    /// `movs`.
    Movs = 2,
    /// `stos`.
    Stos = 2,
    /// `lods`.
    Lods = 2,
    /// `cmps`.
    Cmps = 2,
    /// `scas`.
    Scas = 2,
    /// `xadd`.
    Xadd = 2,
    /// `cmpxchg`.
    Cmpxchg = 3,
    /// `cmpxchg8b` / `cmpxchg16b` (size 8 or 16).
    CmpxchgWide = 5,
    /// `cpuid`.
    Cpuid = 20,
    /// `rdtsc`.
    Rdtsc = 5,
    /// `ud2`.
    Ud2 = 1,
    /// `hlt`.
    Hlt = 1,
    /// `int3`.
    Int3 = 1,
    /// `int imm8`: a host call.
    Int = 10,
    /// `syscall`.
    Syscall = 10,
    /// `pushf`.
    Pushf = 2,
    /// `popf`.
    Popf = 2,
    /// `lahf`.
    Lahf = 1,
    /// `sahf`.
    Sahf = 1,
    /// `clc`.
    Clc = 1,
    /// `stc`.
    Stc = 1,
    /// `cmc`.
    Cmc = 1,
    /// `cld`.
    Cld = 1,
    /// `std`.
    Std = 1,
    // ---- x87 FPU (isa/x87): software 80-bit arithmetic ----
    /// `fld m32/m64/m80`, `fld st(i)` (sreg = i), `fild m16/m32/m64` (cc = 1).
    Fld = 2,
    /// `fld1`, `fldl2t`, `fldl2e`, `fldpi`, `fldlg2`, `fldln2`, `fldz` (cc = 0..6).
    FldConst = 2,
    /// `fst` / `fstp` to m32/m64/m80 or st(i) (dreg = i); cc = 1: pop.
    Fst = 2,
    /// `fist` / `fistp` / `fisttp` m16/m32/m64 (cc = 0 / 1 / 2).
    Fist = 3,
    /// `fadd` `fmul` `fsub` `fsubr` `fdiv` `fdivr`, their `p` and `fi` forms (cc: x87 reg digit, +8 pop, +16 integer operand; dreg/sreg = ST indices).
    Farith = 4,
    /// `fcom*` `fucom*` `ficom*` `fcomi*` `fucomi*` `ftst` (cc: pops, +4 quiet, +8 EFLAGS, +16 integer, +32 ftst).
    Fcom = 2,
    /// `fxch st(i)` (sreg = i).
    Fxch = 2,
    /// `fcmovcc st, st(i)` (cc = condition, sreg = i).
    Fcmov = 2,
    /// `fchs` `fabs` `fxam` `ffree` `ffreep` `fincstp` `fdecstp` `fnop` (cc = selector).
    Fmisc = 1,
    /// `fsqrt` `frndint` `fscale` `fprem` `fprem1` `fxtract` (cc = selector).
    Fmath = 8,
    /// `f2xm1` `fyl2x` `fyl2xp1` `fsin` `fcos` `fsincos` `fptan` `fpatan` (cc = selector).
    /// Priced by host time: the software 80-bit versions take 4-10 µs, about
    /// 1500 simple instructions (60 let them run 20-50 times longer per gas).
    Ftrans = 1500,
    /// `fldcw` `fnstcw` `fnstsw` m16/ax `fnclex` `fninit` `fwait` (cc = selector).
    Fctl = 2,
    /// `fnstenv` `fldenv` `fnsave` `frstor` (cc = selector).
    Fenv = 12,
    // ---- end of x87 ----
    /// 128-bit XMM move (`movdqa`, `movdqu`, `movaps`, `movups`, ...; cc = 1 when aligned).
    Movx = 1,
    /// `movd` / `movq` between XMM, GPR and memory (size 4 or 8; zero-extends into XMM).
    MovdQ = 1,
    /// `pxor` / `xorps` / `xorpd`.
    Pxor = 1,
    /// `por` / `orps` / `orpd`.
    Por = 1,
    /// `pand` / `andps` / `andpd`.
    Pand = 1,
    /// `punpcklqdq` / `movlhps`.
    Punpcklqdq = 1,
    /// `movhps`/`movhpd` and `movhlps` high-half moves (cc = 0: store the high half,
    /// 1: load the high half, 2: `movhlps`).
    MovHigh = 1,
    /// `paddb` / `paddw` / `paddd` / `paddq` (cc = lane size in bytes).
    Padd = 1,
    /// `psubb` / `psubw` / `psubd` / `psubq` (cc = lane size).
    Psub = 1,
    /// `pcmpeqb` / `pcmpeqw` / `pcmpeqd` (cc = lane size).
    Pcmpeq = 1,
    /// `pcmpgtb` / `pcmpgtw` / `pcmpgtd`, signed (cc = lane size).
    Pcmpgt = 1,
    /// `pandn` / `andnps` / `andnpd`.
    Pandn = 1,
    /// `psllw` / `pslld` / `psllq` by imm8 or xmm/m128 (cc = lane size).
    Psll = 1,
    /// `psrlw` / `psrld` / `psrlq` (cc = lane size).
    Psrl = 1,
    /// `psraw` / `psrad` (cc = lane size).
    Psra = 1,
    /// `pslldq` / `psrldq`: whole-register byte shifts (cc = 1: left).
    PshiftBytes = 1,
    /// `pshufd` (selector in imm).
    Pshufd = 1,
    /// `pshuflw` / `pshufhw` (cc = 1: high words; selector in imm).
    Pshufw = 1,
    /// `punpcklbw` / `punpcklwd` / `punpckldq` (cc = lane size).
    Punpckl = 1,
    /// `punpckhbw` / `punpckhwd` / `punpckhdq` / `punpckhqdq` (cc = lane size).
    Punpckh = 1,
    /// `pinsrw xmm, r32/m16, imm8`.
    Pinsrw = 1,
    /// `pextrw r32/m16, xmm, imm8`.
    Pextrw = 1,
    /// `pmovmskb r, xmm`.
    Pmovmskb = 1,

    // ---- SSE .. SSE4.2 (isa/sse_float.rs, sse_move.rs, sse_int.rs, sse_string.rs).
    // Selectors in `cc` are listed in [`sse_kind`]; `ssize` is the lane or element
    // size, `size` the source operand size (16 for packed, the element size for
    // scalar forms), `imm` the immediate byte.
    /// Float add/sub/mul/min/max, `addsub`, `hadd`, `hsub` (ps/pd/ss/sd).
    SseFloatArith = 2,
    /// Float `div` and `sqrt` (ps/pd/ss/sd).
    SseFloatDiv = 4,
    /// `rcpps` / `rcpss` / `rsqrtps` / `rsqrtss`.
    SseFloatApprox = 2,
    /// `cmpps` / `cmppd` / `cmpss` / `cmpsd` (predicate in imm).
    SseFloatCmp = 2,
    /// `comiss` / `comisd` / `ucomiss` / `ucomisd` (cc = 1: signalling).
    SseComi = 2,
    /// All `cvt*` conversions between integers, binary32 and binary64.
    SseCvt = 2,
    /// `roundps` / `roundpd` / `roundss` / `roundsd`.
    SseRound = 2,
    /// `dpps` / `dppd`.
    SseDot = 6,
    /// `ldmxcsr m32`.
    Ldmxcsr = 2,
    /// `stmxcsr m32`.
    Stmxcsr = 1,
    /// `movss` / `movsd` (the SSE forms).
    SseMovScalar = 1,
    /// `movlps` / `movlpd`.
    SseMovLow = 1,
    /// `movmskps` / `movmskpd`.
    SseMovMask = 1,
    /// `movddup` / `movshdup` / `movsldup`.
    SseDup = 1,
    /// Shuffles, blends and inserts with an immediate (`shufps`, `shufpd`, `blendps`,
    /// `blendpd`, `pblendw`, `insertps`, `palignr`) and `pshufb`.
    SseShuffle = 1,
    /// `blendvps` / `blendvpd` / `pblendvb` (mask in XMM0).
    SseBlendv = 1,
    /// `pinsrb` / `pinsrd` / `pinsrq`.
    SsePinsr = 1,
    /// `pextrb` / `pextrd` / `pextrq` / `extractps`.
    SsePextr = 1,
    /// `pmovzx*` / `pmovsx*`.
    SsePmovx = 1,
    /// `maskmovdqu`.
    SseMaskMov = 2,
    /// Two-operand packed-integer arithmetic, compares and packs beyond `Padd`/`Psub`.
    PackedIntBinary = 1,
    /// `pabsb` / `pabsw` / `pabsd` / `phminposuw`.
    PackedIntUnary = 1,
    /// `ptest`.
    Ptest = 1,
    /// `crc32 r32/r64, r/m8/16/32/64`.
    Crc32 = 2,
    /// `pcmpestri` / `pcmpestrm` / `pcmpistri` / `pcmpistrm`.
    PcmpStr = 6,
}

/// One decoded guest instruction.
///
/// Layout is chosen for a small footprint: the two 64-bit payloads first, then
/// the byte-sized fields.
#[derive(Clone, Copy, Debug)]
pub struct Inst {
    /// Executes it alone (the tracing loop; see [`crate::isa::handlers_for`]).
    pub handler: crate::isa::Handler,
    /// Executes it and then the rest of its block, and for a block's last
    /// instruction, the next block when it is linked (see [`crate::interp`]).
    pub threaded: crate::isa::Threaded,
    /// Guest address of the instruction.
    pub addr: u64,
    /// Memory displacement (for RIP-relative operands: the absolute address, no base).
    pub disp: i64,
    /// Immediate value (sign-extended to 64 bits) or branch target.
    pub imm: u64,
    /// What to do.
    pub op: Op,
    /// Operand size in bytes (1, 2, 4, 8; 16 for XMM and `cmpxchg16b`).
    pub size: u8,
    /// Source size for `movzx`/`movsx`; for `shld`/`shrd`, 1 when the count is CL.
    pub ssize: u8,
    /// Instruction length in bytes.
    pub len: u8,
    /// Destination (first) operand location.
    pub dst: Loc,
    /// Destination register.
    pub dreg: u8,
    /// Source (second) operand location.
    pub src: Loc,
    /// Source register.
    pub sreg: u8,
    /// Condition code (0..15, x86 order), repeat kind, or other small selector.
    pub cc: u8,
    /// Memory base register or [`NO_REG`].
    pub base: u8,
    /// Memory index register or [`NO_REG`].
    pub index: u8,
    /// log2 of the index scale.
    pub scale: u8,
    /// Segment base selector, see [`seg`].
    pub seg: u8,
    /// 32-bit address size (`0x67` prefix): the effective address wraps at 4 GiB.
    pub addr32: bool,
    /// Third operand is an immediate (for `imul r, r/m, imm`).
    pub has_imm: bool,
    /// For a block's last instruction: the cached entry (index in the code cache)
    /// of the block at `imm`, or [`NO_LINK`]. Filled in by the interpreter loop.
    pub link_taken: u32,
    /// For a block's last instruction: the cached entry of the block at
    /// [`Inst::next`], or [`NO_LINK`].
    pub link_next: u32,
}

/// "Not linked yet" in [`Inst::link_taken`] / [`Inst::link_next`].
pub const NO_LINK: u32 = u32::MAX;

impl Inst {
    /// A blank instruction at `addr` of `len` bytes.
    pub fn new(addr: u64, len: u8, op: Op) -> Self {
        Inst {
            handler: crate::isa::exec,
            threaded: crate::isa::exec_threaded,
            addr,
            disp: 0,
            imm: 0,
            op,
            size: 8,
            ssize: 0,
            len,
            dst: Loc::None,
            dreg: 0,
            src: Loc::None,
            sreg: 0,
            cc: 0,
            base: NO_REG,
            index: NO_REG,
            scale: 0,
            seg: seg::NONE,
            addr32: false,
            has_imm: false,
            link_taken: NO_LINK,
            link_next: NO_LINK,
        }
    }

    /// Address of the following instruction.
    #[inline(always)]
    pub fn next(&self) -> u64 {
        self.addr.wrapping_add(self.len as u64)
    }

    /// Whether this op always ends a basic block.
    pub fn ends_block(&self) -> bool {
        matches!(
            self.op,
            Op::Unsupported
                | Op::Jcc
                | Op::Jmp
                | Op::JmpInd
                | Op::Call
                | Op::CallInd
                | Op::Ret
                | Op::Jrcxz
                | Op::Loop
                | Op::Int
                | Op::Syscall
                | Op::Ud2
                | Op::Hlt
                | Op::Int3
        )
    }
}

// One cache line.
const _: () = assert!(std::mem::size_of::<Inst>() <= 64);

/// Selectors (`Inst.cc`) of the SSE ops.
pub mod sse_kind {
    // SseFloatArith / SseFloatDiv / SseFloatApprox
    /// add.
    pub const ADD: u8 = 0;
    /// sub.
    pub const SUB: u8 = 1;
    /// mul.
    pub const MUL: u8 = 2;
    /// div.
    pub const DIV: u8 = 3;
    /// min.
    pub const MIN: u8 = 4;
    /// max.
    pub const MAX: u8 = 5;
    /// sqrt.
    pub const SQRT: u8 = 6;
    /// addsub.
    pub const ADDSUB: u8 = 7;
    /// Horizontal add.
    pub const HADD: u8 = 8;
    /// Horizontal subtract.
    pub const HSUB: u8 = 9;
    /// Approximate reciprocal.
    pub const RCP: u8 = 10;
    /// Approximate reciprocal square root.
    pub const RSQRT: u8 = 11;

    // SseCvt
    /// `cvtsi2ss/sd` (size: integer size, ssize: float size).
    pub const CVT_I2F: u8 = 0;
    /// `cvtss2si/cvtsd2si` (size: integer size, ssize: float size).
    pub const CVT_F2I: u8 = 1;
    /// `cvttss2si/cvttsd2si`.
    pub const CVTT_F2I: u8 = 2;
    /// `cvtss2sd/cvtsd2ss` (ssize: source float size).
    pub const CVT_F2F: u8 = 3;
    /// `cvtdq2ps`.
    pub const CVT_DQ2PS: u8 = 4;
    /// `cvtps2dq`.
    pub const CVT_PS2DQ: u8 = 5;
    /// `cvttps2dq`.
    pub const CVTT_PS2DQ: u8 = 6;
    /// `cvtdq2pd`.
    pub const CVT_DQ2PD: u8 = 7;
    /// `cvtpd2dq`.
    pub const CVT_PD2DQ: u8 = 8;
    /// `cvttpd2dq`.
    pub const CVTT_PD2DQ: u8 = 9;
    /// `cvtps2pd`.
    pub const CVT_PS2PD: u8 = 10;
    /// `cvtpd2ps`.
    pub const CVT_PD2PS: u8 = 11;

    // SseDup
    /// `movddup`.
    pub const MOVDDUP: u8 = 0;
    /// `movshdup`.
    pub const MOVSHDUP: u8 = 1;
    /// `movsldup`.
    pub const MOVSLDUP: u8 = 2;

    // SseShuffle
    /// `shufps`.
    pub const SHUFPS: u8 = 0;
    /// `shufpd`.
    pub const SHUFPD: u8 = 1;
    /// `blendps`.
    pub const BLENDPS: u8 = 2;
    /// `blendpd`.
    pub const BLENDPD: u8 = 3;
    /// `pblendw`.
    pub const PBLENDW: u8 = 4;
    /// `insertps`.
    pub const INSERTPS: u8 = 5;
    /// `palignr`.
    pub const PALIGNR: u8 = 6;
    /// `pshufb`.
    pub const PSHUFB: u8 = 7;

    // PackedIntBinary (ssize: lane size)
    /// Signed saturating add.
    pub const ADDS: u8 = 0;
    /// Unsigned saturating add.
    pub const ADDUS: u8 = 1;
    /// Signed saturating subtract.
    pub const SUBS: u8 = 2;
    /// Unsigned saturating subtract.
    pub const SUBUS: u8 = 3;
    /// Low half of the product (`pmullw`, `pmulld`).
    pub const MULLO: u8 = 4;
    /// High half of the signed product (`pmulhw`).
    pub const MULHI: u8 = 5;
    /// High half of the unsigned product (`pmulhuw`).
    pub const MULHU: u8 = 6;
    /// `pmulhrsw`.
    pub const MULHRS: u8 = 7;
    /// `pmuludq`.
    pub const MULUDQ: u8 = 8;
    /// `pmuldq`.
    pub const MULDQ: u8 = 9;
    /// `pmaddwd`.
    pub const MADDWD: u8 = 10;
    /// `pmaddubsw`.
    pub const MADDUBSW: u8 = 11;
    /// `psadbw`.
    pub const SADBW: u8 = 12;
    /// `pavgb` / `pavgw`.
    pub const AVG: u8 = 13;
    /// Unsigned minimum.
    pub const MINU: u8 = 14;
    /// Signed minimum.
    pub const MINS: u8 = 15;
    /// Unsigned maximum.
    pub const MAXU: u8 = 16;
    /// Signed maximum.
    pub const MAXS: u8 = 17;
    /// `psignb/w/d`.
    pub const SIGN: u8 = 18;
    /// `phaddw/d`.
    pub const PHADD: u8 = 19;
    /// `phaddsw`.
    pub const PHADDS: u8 = 20;
    /// `phsubw/d`.
    pub const PHSUB: u8 = 21;
    /// `phsubsw`.
    pub const PHSUBS: u8 = 22;
    /// `packsswb` / `packssdw` (ssize: source lane size).
    pub const PACKSS: u8 = 23;
    /// `packuswb` / `packusdw` (ssize: source lane size).
    pub const PACKUS: u8 = 24;
    /// `mpsadbw` (imm).
    pub const MPSADBW: u8 = 25;

    // PackedIntUnary
    /// `pabsb/w/d`.
    pub const ABS: u8 = 0;
    /// `phminposuw`.
    pub const MINPOS: u8 = 1;

    // PcmpStr (bit flags)
    /// Explicit lengths in EAX/EDX (`pcmpestr*`).
    pub const STR_EXPLICIT: u8 = 1;
    /// Mask result in XMM0 (`pcmp*strm`) rather than an index in ECX.
    pub const STR_MASK: u8 = 2;
}
