pub mod data;
pub mod indicators;
