pub mod build;
pub mod data;
pub mod models;
pub mod train;
pub mod upcoming;
