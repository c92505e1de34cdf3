//! Matrix files for `btb train --matrix` and `btb predict`: the extension says which reader, the
//! engine reads the table (`engine::data::table`).

use std::path::Path;

use engine::data::table::{self, Table};

use crate::error::{read_err, CliError};

pub(crate) fn read_table(path: &Path) -> Result<Table, CliError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if !matches!(ext.as_str(), "csv" | "parquet") {
        return Err(CliError::Usage(format!("{}: expected a .csv or .parquet file, not .{ext}", path.display())));
    }
    let bytes = std::fs::read(path).map_err(read_err(path))?;
    Ok(table::read(&path.display().to_string(), &bytes)?)
}
