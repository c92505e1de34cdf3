//! Display formatting only: how the engine's numbers and times are written on screen.

use js_sys::Date;

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An epoch-ms timestamp in UTC: the date alone when it is midnight, else date and minutes.
pub fn utc(ts: i64) -> String {
    let iso: String = Date::new(&(ts as f64).into()).to_iso_string().into();
    if iso.get(11..19) == Some("00:00:00") {
        iso[..10].to_string()
    } else {
        format!("{} {}", &iso[..10], &iso[11..16])
    }
}

pub fn price(x: f64) -> String {
    if x.abs() >= 1000.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

pub fn compact(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.2}B", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}K", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;
    #[wasm_bindgen_test]
    fn thousands_groups() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(12155), "12,155");
        assert_eq!(super::thousands(1234567), "1,234,567");
    }
}
