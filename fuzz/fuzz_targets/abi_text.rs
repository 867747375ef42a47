//! libFuzzer entry for the `abi_text` target; the body is `x64vm_fuzz::abi_text`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| x64vm_fuzz::abi_text(data));
