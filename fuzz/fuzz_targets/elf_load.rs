//! libFuzzer entry for the `elf_load` target; the body is `x64vm_fuzz::elf_load`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| x64vm_fuzz::elf_load(data));
