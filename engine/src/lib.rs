pub mod data;
pub mod indicators;
pub mod features;
pub mod lineage;
pub mod matrix;
pub mod model;
pub mod pack;
pub mod risk;
