//! Builds each benchmark's C source twice: natively (linked into the bench binary
//! through `cc`) and as a freestanding ELF for the VM (embedded as bytes), with
//! the same compiler and -O2, so both sides run the same code.

use std::path::PathBuf;
use std::process::Command;

const SOURCES: &[(&str, &str)] = &[("fib", "../examples/fib/fib.c")];

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    for (name, src) in SOURCES {
        println!("cargo:rerun-if-changed={src}");
        // Native: rename the symbols so they cannot clash with the C runtime.
        cc::Build::new()
            .file(src)
            .opt_level(2)
            .define("fib", "x64vm_native_fib")
            .define("_start", "x64vm_native_start")
            .compile(&format!("native_{name}"));
        let elf = out.join(format!("{name}.elf"));
        let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "gcc".into()))
            .args([
                "-O2",
                "-static",
                "-nostdlib",
                "-fno-pie",
                "-no-pie",
                "-ffreestanding",
            ])
            .args(["-fno-stack-protector", "-o"])
            .arg(&elf)
            .arg(src)
            .status()
            .expect("run gcc");
        assert!(status.success(), "gcc failed for {src}");
    }
}
