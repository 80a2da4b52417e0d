//! The properties behind Cohort's fuzz targets, as plain functions of the input bytes: each one
//! panics when a property breaks. `fuzz_targets/` hands them libFuzzer's inputs; core's property
//! tests (`core/tests/prop_*.rs`) include the same files and hand them proptest's, so the
//! properties run on every `cargo test`, even where no fuzzer can.

pub mod json_check;
pub mod ops_check;
pub mod spec;
pub mod token_check;
