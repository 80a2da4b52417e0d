#![no_main]
//! See `cohort_fuzz::ops_check` for the property.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cohort_fuzz::ops_check::check(data));
