//! Pieces more than one page shows, one module each. Pages compose these; a component never
//! reaches into a page.

pub mod equity_chart;
pub mod error;
pub mod import_report;
pub mod picker;
pub mod runs_table;
pub mod sweep_map;
pub mod table;
pub mod train_strategy;

pub use error::ErrorView;
