//! One module per pipeline step. A page imports `state`, `components`, `format` and the
//! engine, never another page (`app/tests/shape.rs` checks it).

pub mod backtest;
pub mod build;
pub mod data;
pub mod leaderboard;
pub mod models;
pub mod scanner;
pub mod signals;
pub mod sweeps;
pub mod train;
