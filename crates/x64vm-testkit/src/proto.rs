//! The fixed memory layout shared by the native runner and the VM, the test
//! case and outcome types, and the byte format the runner speaks on its pipes.
//!
//! Input (stdin): `u32` case count, then per case: `u32` code length, the code,
//! `u32` data length, the data, 16 `u64` GPRs, `u64` RFLAGS.
//! Output (stdout), per case: `i32` signal (0 = reached the end), `u64` RIP,
//! 16 `u64` GPRs, `u64` RFLAGS, then [`DATA_SIZE`] bytes of data memory.
//! All integers are little-endian.

use x64vm::cpu::reg;
use x64vm::trap::Trap;

/// Where snippets are placed (read-execute while they run, natively and in the VM).
pub const CODE_BASE: u64 = 0x1000_0000;
/// Bytes of the code region.
pub const CODE_SIZE: u64 = 0x2000;
/// The data region (read-write on both sides).
pub const DATA_BASE: u64 = 0x1010_0000;
/// Bytes of the data region. Everything outside code and data is unmapped.
pub const DATA_SIZE: u64 = 0x2000;
/// Default RSP: near the top of the data region, leaving room above for
/// `pop`-heavy snippets.
pub const STACK_TOP: u64 = DATA_BASE + DATA_SIZE - 0x100;
/// Bytes the native runner appends after a snippet (`jmp [rip+0]; dq target`).
pub const STUB_LEN: usize = 14;

/// One test: a snippet and the state it starts from.
#[derive(Clone, Debug, Default)]
pub struct Case {
    /// Label used in failure reports (template name and parameters).
    pub name: String,
    /// The snippet, placed at [`CODE_BASE`]; execution ends when it reaches
    /// `CODE_BASE + code.len()`.
    pub code: Vec<u8>,
    /// Initial bytes at [`DATA_BASE`] (at most [`DATA_SIZE`]; the rest is zero).
    pub data: Vec<u8>,
    /// Initial RAX..R15.
    pub gpr: [u64; 16],
    /// Initial RFLAGS; only the status flags and DF are used.
    pub rflags: u64,
    /// Flags not to compare beyond those the SDM leaves undefined (for cases whose
    /// undefinedness depends on operand values, like `shl r8, 9`'s CF).
    pub ignore_flags: u64,
    /// Bit `r` set: do not compare GPR `r`.
    pub ignore_regs: u16,
}

impl Case {
    /// Address where the snippet ends.
    pub fn end(&self) -> u64 {
        CODE_BASE + self.code.len() as u64
    }

    /// A multi-line description: name, disassembly and initial state.
    pub fn describe(&self) -> String {
        let mut s = format!("case {}\n  code:", self.name);
        let mut dec =
            iced_x86::Decoder::with_ip(64, &self.code, CODE_BASE, iced_x86::DecoderOptions::NONE);
        while dec.can_decode() {
            let ip = dec.ip();
            let off = (ip - CODE_BASE) as usize;
            let ins = dec.decode();
            let bytes: Vec<String> = self.code[off..off + ins.len()]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            s += &format!(
                "\n    {ip:#x}: {:<40} {}",
                x64vm::disasm::disassemble_bytes(&self.code[off..], ip),
                bytes.join(" ")
            );
        }
        s += "\n  initial:";
        for r in 0..16 {
            if r % 4 == 0 {
                s += "\n   ";
            }
            s += &format!(" {:>3}={:#018x}", reg::NAMES[r], self.gpr[r]);
        }
        s += &format!("\n    rflags={:#x}", self.rflags);
        s
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// Execution reached the end of the snippet.
    Completed,
    /// Native only: the snippet raised this signal (RIP and registers are at the
    /// faulting instruction).
    Signal(i32),
    /// VM only: the VM trapped (RIP and registers are at the trapping instruction).
    Trap(Trap),
    /// Anything else (unexpected VM stop).
    Other(String),
}

/// Final state of one run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// How it ended.
    pub end: End,
    /// End address, or the faulting instruction's address.
    pub rip: u64,
    /// RAX..R15.
    pub gpr: [u64; 16],
    /// RFLAGS.
    pub rflags: u64,
    /// The whole data region.
    pub data: Vec<u8>,
}

/// Appends the runner's encoding of `cases` to `out`.
pub fn encode_cases(cases: &[Case], out: &mut Vec<u8>) {
    out.extend_from_slice(&(cases.len() as u32).to_le_bytes());
    for c in cases {
        assert!(
            c.code.len() + STUB_LEN <= CODE_SIZE as usize,
            "snippet too long"
        );
        assert!(c.data.len() <= DATA_SIZE as usize, "data too long");
        out.extend_from_slice(&(c.code.len() as u32).to_le_bytes());
        out.extend_from_slice(&c.code);
        out.extend_from_slice(&(c.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&c.data);
        for g in c.gpr {
            out.extend_from_slice(&g.to_le_bytes());
        }
        out.extend_from_slice(&c.rflags.to_le_bytes());
    }
}

/// Size in bytes of one encoded result.
pub const RESULT_LEN: usize = 4 + 8 + 16 * 8 + 8 + DATA_SIZE as usize;

/// A little-endian reader over a byte slice.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads from the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// The next `n` bytes, or `None` past the end.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    /// The next `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }

    /// The next `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    /// Whether everything was consumed.
    pub fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }
}

/// Decodes one result written by the runner.
pub fn decode_result(r: &mut Reader<'_>) -> Option<Outcome> {
    let sig = r.u32()? as i32;
    let rip = r.u64()?;
    let mut gpr = [0u64; 16];
    for g in &mut gpr {
        *g = r.u64()?;
    }
    let rflags = r.u64()?;
    let data = r.bytes(DATA_SIZE as usize)?.to_vec();
    let end = if sig == 0 {
        End::Completed
    } else {
        End::Signal(sig)
    };
    Some(Outcome {
        end,
        rip,
        gpr,
        rflags,
        data,
    })
}
