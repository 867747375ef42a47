//! libFuzzer entry for the `call_line` target; the body is `x64vm_fuzz::call_line`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| x64vm_fuzz::call_line(data));
