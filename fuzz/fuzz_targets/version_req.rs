#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(why) = blastradius_fuzz::targets::version_req(data) {
        panic!("version_req: {why}");
    }
});
