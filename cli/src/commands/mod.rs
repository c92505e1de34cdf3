//! One module per seed phase. Each command takes its flags and returns everything it prints on
//! stdout, so that nothing is printed when a step fails. A later phase may call an earlier one's
//! functions (the pipeline calls them all), never the other way round.

pub mod backtest;
pub mod build;
pub mod bundle;
pub mod data;
pub mod leaderboard;
pub mod model;
pub mod pipeline;
pub mod predict;
pub mod report;
pub mod scan;
pub mod signals;
pub mod sweep;
pub mod train;
