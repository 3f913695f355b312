#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| oten_fuzz::targets::api_answer(data));
