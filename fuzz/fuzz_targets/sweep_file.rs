#![no_main]
libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let _ = btb_fuzz::sweep_file(bytes);
});
