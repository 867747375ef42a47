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
    /// `movhps`/`movhpd` store and `pextrq`-free high-half moves (cc = 1: load high half).
    MovHigh = 1,
}

/// One decoded guest instruction.
///
/// Layout is chosen for a small footprint: the two 64-bit payloads first, then
/// the byte-sized fields.
#[derive(Clone, Copy, Debug)]
pub struct Inst {
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
}

impl Inst {
    /// A blank instruction at `addr` of `len` bytes.
    pub fn new(addr: u64, len: u8, op: Op) -> Self {
        Inst {
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

const _: () = assert!(std::mem::size_of::<Inst>() <= 48);
