#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(why) = blastradius_fuzz::targets::dot_escape(data) {
        panic!("dot_escape: {why}");
    }
});
