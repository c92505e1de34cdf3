pub mod data;
pub mod upcoming;
