//! libFuzzer entry for the `packed_load` target; the body is `x64vm_fuzz::packed_load`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| x64vm_fuzz::packed_load(data));
