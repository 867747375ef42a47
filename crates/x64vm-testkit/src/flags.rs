//! Which flags the SDM leaves undefined after a snippet, from iced-x86's
//! instruction info.

use iced_x86::{Decoder, DecoderOptions, RflagsBits};
use x64vm::cpu::flag;

use crate::proto::CODE_BASE;

/// Converts iced-x86 [`RflagsBits`] into RFLAGS bit positions.
pub fn from_iced(bits: u32) -> u64 {
    let map = [
        (RflagsBits::CF, flag::CF),
        (RflagsBits::PF, flag::PF),
        (RflagsBits::AF, flag::AF),
        (RflagsBits::ZF, flag::ZF),
        (RflagsBits::SF, flag::SF),
        (RflagsBits::OF, flag::OF),
        (RflagsBits::DF, flag::DF),
    ];
    map.iter()
        .filter(|(i, _)| bits & i != 0)
        .fold(0, |acc, (_, f)| acc | f)
}

/// Flags that are undefined when execution of `code` (placed at [`CODE_BASE`])
/// stands at `rip`: a straight-line pass over the instructions before `rip`,
/// where each instruction's undefined flags replace what it modifies.
pub fn undefined_flags(code: &[u8], rip: u64) -> u64 {
    let mut undef = 0u64;
    let mut dec = Decoder::with_ip(64, code, CODE_BASE, DecoderOptions::NONE);
    while dec.can_decode() {
        let ins = dec.decode();
        if ins.ip() >= rip {
            break;
        }
        undef = (undef & !from_iced(ins.rflags_modified())) | from_iced(ins.rflags_undefined());
    }
    undef
}

/// The first instruction of `code` that reads a flag an earlier instruction left
/// undefined (such a snippet's outcome is not defined; templates must avoid it).
pub fn reads_undefined_flag(code: &[u8]) -> Option<String> {
    let mut undef = 0u64;
    let mut dec = Decoder::with_ip(64, code, CODE_BASE, DecoderOptions::NONE);
    while dec.can_decode() {
        let ip = dec.ip();
        let ins = dec.decode();
        let read = from_iced(ins.rflags_read()) & undef;
        if read != 0 {
            let off = (ip - CODE_BASE) as usize;
            return Some(format!(
                "{} at {ip:#x} reads undefined {}",
                x64vm::disasm::disassemble_bytes(&code[off..], ip),
                describe(read)
            ));
        }
        undef = (undef & !from_iced(ins.rflags_modified())) | from_iced(ins.rflags_undefined());
    }
    None
}

/// Names the set flags of `bits` (status flags and DF), e.g. `"CF ZF"`.
pub fn describe(bits: u64) -> String {
    let names = [
        (flag::CF, "CF"),
        (flag::PF, "PF"),
        (flag::AF, "AF"),
        (flag::ZF, "ZF"),
        (flag::SF, "SF"),
        (flag::DF, "DF"),
        (flag::OF, "OF"),
    ];
    let v: Vec<&str> = names
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if v.is_empty() {
        "-".to_string()
    } else {
        v.join(" ")
    }
}
