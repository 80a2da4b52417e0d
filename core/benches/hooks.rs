//! Hook runtime benchmarks (filled in with the hooks module).
fn main() {}
