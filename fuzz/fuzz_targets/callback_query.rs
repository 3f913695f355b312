#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| oten_fuzz::targets::callback_query(data));
