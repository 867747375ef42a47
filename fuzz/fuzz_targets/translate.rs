//! libFuzzer entry for the `translate` target; the body is `x64vm_fuzz::translate`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| x64vm_fuzz::translate(data));
