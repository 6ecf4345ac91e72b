#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| blastradius_fuzz::check("pnpm_lock", data));
