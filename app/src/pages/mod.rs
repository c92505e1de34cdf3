pub mod backtest;
pub mod build;
pub mod data;
pub mod leaderboard;
pub mod models;
pub mod sweeps;
pub mod train;
pub mod upcoming;
