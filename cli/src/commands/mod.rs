//! One module per seed phase. Each command takes its flags and returns everything it prints on
//! stdout, so that nothing is printed when a step fails.

pub mod build;
pub mod data;
pub mod pipeline;
pub mod train;
