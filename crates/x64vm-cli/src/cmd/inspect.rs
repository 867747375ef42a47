//! `x64vm inspect`: show what a contract file holds (ELF, x64vm packed, or Echo).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use x64vm::loader::Segment;
use x64vm::loader::packed::{Packed, parse_packed};
use x64vm::mem::perm;
use x64vm::{Format, load_elf};

use super::pack::percent;

/// Arguments of `x64vm inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// An ELF file, a packed file (`x64vm pack`) or an Echo contract (binary or hex).
    pub file: PathBuf,
}

fn perms(p: u8) -> String {
    let f = |bit, c| if p & bit != 0 { c } else { '-' };
    [f(perm::R, 'r'), f(perm::W, 'w'), f(perm::X, 'x')]
        .iter()
        .collect()
}

fn segments(list: &[Segment]) {
    println!("segments: {}", list.len());
    println!(
        "  {:>18}  {:>10}  {:>10}  perms",
        "address", "mem size", "file bytes"
    );
    for s in list {
        println!(
            "  {:#18x}  {:>10}  {:>10}  {}",
            s.vaddr,
            s.mem_size,
            s.data.len(),
            perms(s.perms)
        );
    }
}

fn contents(p: &Packed) {
    println!("entry:    {:#x}", p.entry);
    segments(&p.segments);
    println!("exports:  {}", p.exports.len());
    for (name, addr) in &p.exports {
        println!("  {addr:#x}  {name}");
    }
    let lines: Vec<&str> = p
        .abi
        .split(['\n', '\0'])
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    println!("abi:      {} bytes, {} lines", p.abi.len(), lines.len());
    for l in lines {
        println!("  {l}");
    }
}

/// Echo files are often kept as hex text (as in the original project's tests).
pub fn decode_hex_text(bytes: Vec<u8>) -> Vec<u8> {
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t.trim(),
        Err(_) => return bytes,
    };
    let text = text.strip_prefix("0x").unwrap_or(text);
    if text.len() < 8
        || !text.len().is_multiple_of(2)
        || !text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return bytes;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or(0))
        .collect()
}

/// Prints the file's format, segments, entry, exports, ABI and sizes.
pub fn inspect(a: &InspectArgs) -> Result<ExitCode, String> {
    let name = a.file.display();
    let bytes = decode_hex_text(std::fs::read(&a.file).map_err(|e| format!("{name}: {e}"))?);
    let format = Format::detect(&bytes);
    println!("file:     {name}");
    println!("format:   {}", format.name());
    println!("size:     {} bytes", bytes.len());
    match format {
        Format::Packed => {
            let p = parse_packed(&bytes).map_err(|e| format!("{name}: {e}"))?;
            println!("version:  {}", x64vm::loader::packed::VERSION);
            contents(&p);
        }
        Format::Elf => {
            let image = load_elf(&bytes, false).map_err(|e| format!("{name}: {e}"))?;
            println!("entry:    {:#x}", image.entry);
            segments(&image.segments);
            println!("symbols:  {}", image.symbols.len());
            match x64vm::pack(&bytes) {
                Ok(packed) => {
                    let p = parse_packed(&packed).map_err(|e| format!("{name}: {e}"))?;
                    println!(
                        "packed:   {} bytes ({} of the ELF file); it keeps:",
                        packed.len(),
                        percent(packed.len() as u64, bytes.len() as u64)
                    );
                    contents(&p);
                }
                Err(e) => println!("packed:   cannot be packed as a contract: {e}"),
            }
        }
        Format::Echo => {
            let file = x64vm_echo::parse_echo(&bytes).map_err(|e| format!("{name}: {e}"))?;
            println!("version:  {}", file.version);
            println!("entry:    {:#x} (__apply)", file.entry);
            println!("sections: {}", file.sections.len());
            println!(
                "  {:>4}  {:>5}  {:>18}  {:>10}  {:>10}  perms",
                "kind", "flags", "address", "mem size", "file bytes"
            );
            for s in &file.sections {
                println!(
                    "  {:>4}  {:#5x}  {:#18x}  {:>10}  {:>10}  {}",
                    s.kind,
                    s.flags,
                    s.vaddr,
                    s.mem_size,
                    s.data.len(),
                    perms(s.perms())
                );
            }
            println!("symbols:  {} values", file.symbols.len());
            println!("_end:     {:#x}", file.image_end());
            match x64vm_echo::load_echo(&bytes) {
                Ok(image) => {
                    println!("loaded as:");
                    segments(&image.segments);
                }
                Err(e) => println!("loads:    no: {e}"),
            }
        }
        Format::Unknown => {
            return Err(format!(
                "{name}: unknown format (not ELF, x64vm packed or Echo)"
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
