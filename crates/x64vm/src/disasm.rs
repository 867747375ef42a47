//! Disassembly for trap reports and traces.

use iced_x86::{Decoder, DecoderOptions, FastFormatter, Instruction};

use crate::mem::Memory;

/// Disassembles one instruction from `bytes` at address `ip` (Intel syntax).
pub fn disassemble_bytes(bytes: &[u8], ip: u64) -> String {
    let mut decoder = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE);
    let mut ins = Instruction::default();
    decoder.decode_out(&mut ins);
    if ins.is_invalid() {
        let shown: Vec<String> = bytes.iter().take(15).map(|b| format!("{b:02x}")).collect();
        return format!("(bad) {}", shown.join(" "));
    }
    let mut out = String::new();
    FastFormatter::new().format(&ins, &mut out);
    out
}

/// Disassembles the instruction at `addr` in guest memory, reading whatever
/// bytes are readable there (empty string if none).
pub fn disassemble_at(mem: &Memory, addr: u64) -> String {
    let mut bytes = Vec::with_capacity(15);
    for k in 0..15 {
        match mem.read_u8(addr.wrapping_add(k)) {
            Ok(b) => bytes.push(b),
            Err(_) => break,
        }
    }
    if bytes.is_empty() {
        return String::new();
    }
    disassemble_bytes(&bytes, addr)
}
