//! What every data table of the page does the same way: a click (or Enter) on a column header
//! sorts by it, a second click reverses, a third goes back to the order the engine gave (the
//! leaderboard's ranking, the trades' time order); rows are reached with the arrow keys,
//! Home and End, and act on Enter.

use std::cmp::Ordering;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// A table's order: which column and which way. `None` in a signal is the engine's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub column: &'static str,
    pub descending: bool,
}

impl Order {
    /// `sharpe` (ascending) or `-sharpe` (descending), as a link carries it.
    pub fn to_param(self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.column)
    }

    /// The order a link's `sort=` names, if it names one of `columns`.
    pub fn parse(text: &str, columns: &[&'static str]) -> Option<Order> {
        let (descending, name) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        columns.iter().find(|c| **c == name).map(|&column| Order { column, descending })
    }
}

/// What a row is sorted by in one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Num(f64),
    Text(String),
}

impl Key {
    /// Numbers before text; an undefined number (`NaN`, an infinite profit factor shown as ∞
    /// sorts as the largest) keeps its place at the end in both directions.
    fn compare(&self, other: &Key, descending: bool) -> Ordering {
        let dir = |o: Ordering| if descending { o.reverse() } else { o };
        match (self, other) {
            (Key::Num(a), Key::Num(b)) => match (a.is_nan(), b.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => dir(a.total_cmp(b)),
            },
            (Key::Text(a), Key::Text(b)) => dir(a.cmp(b)),
            (Key::Num(_), Key::Text(_)) => Ordering::Less,
            (Key::Text(_), Key::Num(_)) => Ordering::Greater,
        }
    }
}

/// `rows` in `order` (stable: equal keys keep the engine's order), or as given.
pub fn sorted<T>(mut rows: Vec<T>, order: Option<Order>, key: impl Fn(&T, &str) -> Key) -> Vec<T> {
    if let Some(o) = order {
        rows.sort_by(|a, b| key(a, o.column).compare(&key(b, o.column), o.descending));
    }
    rows
}

/// The next order after a click on `column`: numbers start with the largest, text with A.
fn next(current: Option<Order>, column: &'static str, numeric: bool) -> Option<Order> {
    match current {
        Some(o) if o.column == column && o.descending == numeric => Some(Order { column, descending: !numeric }),
        Some(o) if o.column == column => None,
        _ => Some(Order { column, descending: numeric }),
    }
}

/// A sortable column header. `numeric` right-aligns it and sorts largest first.
#[component]
pub fn SortTh(
    order: RwSignal<Option<Order>>,
    column: &'static str,
    label: &'static str,
    #[prop(optional)] numeric: bool,
    #[prop(optional, into)] title: Option<String>,
) -> impl IntoView {
    let state = move || match order.get() {
        Some(o) if o.column == column => {
            if o.descending {
                "descending"
            } else {
                "ascending"
            }
        }
        _ => "none",
    };
    let arrow = move || match state() {
        "descending" => " ▼",
        "ascending" => " ▲",
        _ => "",
    };
    view! {
        <th class=if numeric { "num" } else { "" } aria-sort=state title=title>
            <button class="sort" data-sort=column on:click=move |_| order.update(|o| *o = next(*o, column, numeric))>
                {label}<span class="arrow" aria-hidden="true">{arrow}</span>
            </button>
        </th>
    }
}

/// Arrow keys, Home and End move the focus between a table body's rows (the first has
/// `tabindex=0`, the others `-1`, so Tab enters the table once and leaves it);
/// Enter calls `on_enter` with the row's `data-key`. Put on the `<tbody>`.
pub fn row_keys(ev: web_sys::KeyboardEvent, on_enter: impl Fn(String)) {
    let Some(row) =
        ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).and_then(|e| e.closest("tr").ok().flatten())
    else {
        return;
    };
    // One row of the table is a Tab stop (a roving tabindex): the one last moved to.
    let focus = |el: Option<web_sys::Element>| {
        if let Some(h) = el.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = row.set_attribute("tabindex", "-1");
            let _ = h.set_attribute("tabindex", "0");
            let _ = h.focus();
        }
    };
    let body = row.parent_element();
    match ev.key().as_str() {
        "ArrowDown" => focus(row.next_element_sibling()),
        "ArrowUp" => focus(row.previous_element_sibling()),
        "Home" => focus(body.and_then(|b| b.first_element_child())),
        "End" => focus(body.and_then(|b| b.last_element_child())),
        "Enter" => {
            // Only the row itself: Enter on a checkbox or link inside it does what those do.
            if ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlTableRowElement>().ok()).is_none() {
                return;
            }
            if let Some(key) = row.get_attribute("data-key") {
                on_enter(key);
            }
        }
        _ => return,
    }
    ev.prevent_default();
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn clicks_cycle_and_nan_stays_last() {
        let a = next(None, "sharpe", true);
        assert_eq!(a, Some(Order { column: "sharpe", descending: true }));
        let b = next(a, "sharpe", true);
        assert_eq!(b, Some(Order { column: "sharpe", descending: false }));
        assert_eq!(next(b, "sharpe", true), None, "the third click is the engine's order");
        assert_eq!(next(b, "model", false), Some(Order { column: "model", descending: false }));
        let rows = vec![(1, 0.5), (2, f64::NAN), (3, 2.0), (4, 0.5)];
        let key = |r: &(i32, f64), _: &str| Key::Num(r.1);
        let ids = |v: Vec<(i32, f64)>| v.into_iter().map(|r| r.0).collect::<Vec<_>>();
        assert_eq!(ids(sorted(rows.clone(), a, key)), vec![3, 1, 4, 2], "stable, NaN last");
        assert_eq!(ids(sorted(rows.clone(), b, key)), vec![1, 4, 3, 2], "NaN last ascending too");
        assert_eq!(ids(sorted(rows, None, key)), vec![1, 2, 3, 4]);
        let o = Order { column: "sharpe", descending: true };
        assert_eq!(Order::parse(&o.to_param(), &["dsr", "sharpe"]), Some(o));
        assert_eq!(Order::parse("dsr", &["dsr"]), Some(Order { column: "dsr", descending: false }));
        assert_eq!(Order::parse("-nope", &["dsr"]), None, "an unknown column in a link is ignored");
    }
}
