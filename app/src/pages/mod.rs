pub mod backtest;
pub mod build;
pub mod data;
pub mod leaderboard;
pub mod models;
pub mod signals;
pub mod sweeps;
pub mod train;
