//! A backtest's equity and drawdown as one SVG: the strategy beside buying and holding the
//! ticker, dates along the axis, each trade's entry (▲) and exit (●) on the curve, and a
//! crosshair that reads a bar under the pointer (mouse, touch or pen) or the arrow keys.
//!
//! Buy and hold can be hidden, and the equity axis can be logarithmic (a ticker that grew 70×
//! over the backtest flattens a strategy's curve on a linear axis; on a log axis equal returns
//! are equal heights).
//!
//! Every series is thinned by `engine::report::decimate` (a minimum and a maximum per pixel
//! column), as the HTML report's chart is, so the deepest drawdown and the highest peak are
//! always drawn however many bars there are.

use std::collections::HashMap;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use engine::report::{decimate, log_ticks, tick_decimals, ticks};
use engine::run::{EquityPoint, TradeRow};

use crate::format::pct;

const W: f64 = 960.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 12.0;
const EQ_TOP: f64 = 10.0;
const EQ_BOT: f64 = 230.0;
const DD_TOP: f64 = 252.0;
const DD_BOT: f64 = 340.0;
const H: f64 = 362.0;
const PLOT_W: f64 = W - LEFT - RIGHT;

fn finite_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)))
}

/// How the equity panel is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    log: bool,
    hold: bool,
}

/// What is drawn, worked out once per report and scale (a redraw on hover only moves the
/// crosshair).
#[derive(Debug, Clone, PartialEq)]
struct Geometry {
    log: bool,
    n: usize,
    lo: f64,
    hi: f64,
    dd_lo: f64,
    equity: String,
    hold: String,
    drawdown: String,
    y_ticks: Vec<f64>,
    /// Decimals the equity labels need to differ (a low-exposure curve spans 0.998–1.004).
    y_decimals: usize,
    dd_ticks: Vec<f64>,
    dates: Vec<(f64, String)>,
    /// Entry and exit positions per trade (in the trades' order), as bar indices.
    spans: Vec<Option<(usize, usize)>>,
}

impl Geometry {
    fn x(&self, i: usize) -> f64 {
        if self.n > 1 {
            LEFT + PLOT_W * i as f64 / (self.n - 1) as f64
        } else {
            LEFT
        }
    }

    /// The axis value of an equity: itself, or its logarithm on a log axis (`lo`/`hi` are
    /// axis values).
    fn axis(&self, v: f64) -> f64 {
        if self.log {
            v.max(1e-12).ln()
        } else {
            v
        }
    }

    fn ey(&self, v: f64) -> f64 {
        EQ_BOT - (EQ_BOT - EQ_TOP) * (self.axis(v) - self.lo) / (self.hi - self.lo)
    }

    fn dy(&self, v: f64) -> f64 {
        DD_TOP + (DD_BOT - DD_TOP) * (v / self.dd_lo)
    }

    /// The bar under pixel `x` of the viewBox.
    fn index_at(&self, x: f64) -> usize {
        let f = ((x - LEFT) / PLOT_W).clamp(0.0, 1.0);
        ((f * (self.n.max(1) - 1) as f64).round() as usize).min(self.n.saturating_sub(1))
    }
}

fn geometry(equity: &[EquityPoint], trades: &[TradeRow], scale: Scale) -> Geometry {
    let n = equity.len();
    let eq: Vec<f64> = equity.iter().map(|p| p.equity).collect();
    let hold: Vec<f64> = equity.iter().map(|p| p.hold).collect();
    let dd: Vec<f64> = equity.iter().map(|p| p.drawdown).collect();
    // A log axis needs positive values: an equity at or below 0 (a blown-up account) is
    // drawn at the axis' floor.
    let log = scale.log;
    let to_axis = |v: f64| if log { v.max(1e-12).ln() } else { v };
    let shown: Vec<f64> = if scale.hold { eq.iter().chain(&hold).copied().collect() } else { eq.clone() };
    let (mut lo, mut hi) = finite_range(shown.into_iter().map(to_axis));
    if !(lo.is_finite() && hi.is_finite()) {
        (lo, hi) = (to_axis(1.0), to_axis(1.0));
    }
    if hi - lo < 1e-9 {
        (lo, hi) = (lo - 0.01, hi + 0.01);
    }
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let dmin = finite_range(dd.iter().copied()).0.min(0.0);
    let dd_lo = if dmin < -1e-12 { dmin * 1.08 } else { -0.01 };
    let mut g = Geometry {
        log,
        n,
        lo,
        hi,
        dd_lo,
        equity: String::new(),
        hold: String::new(),
        drawdown: String::new(),
        y_ticks: if log { log_ticks(lo.exp(), hi.exp()) } else { ticks(lo, hi, 5) },
        y_decimals: 2,
        dd_ticks: ticks(dd_lo, 0.0, 2),
        dates: Vec::new(),
        spans: Vec::new(),
    };
    // The smallest gap between ticks decides the decimals (log ticks are uneven).
    let gap = g.y_ticks.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
    g.y_decimals =
        if gap.is_finite() { tick_decimals(ticks(0.0, gap * 5.0, 5).get(1).copied().unwrap_or(gap)).max(2) } else { 2 };
    let columns = PLOT_W as usize;
    let line = |g: &Geometry, v: &[f64], y: &dyn Fn(&Geometry, f64) -> f64, fallback: f64| {
        decimate(v, columns)
            .into_iter()
            .map(|i| format!("{:.1},{:.1}", g.x(i), y(g, if v[i].is_finite() { v[i] } else { fallback })))
            .collect::<Vec<_>>()
            .join(" ")
    };
    g.equity = line(&g, &eq, &|g, v| g.ey(v), 1.0);
    if scale.hold {
        g.hold = line(&g, &hold, &|g, v| g.ey(v), 1.0);
    }
    let dd_line = line(&g, &dd, &|g, v| g.dy(v), 0.0);
    g.drawdown = format!("{LEFT:.1},{DD_TOP:.1} {dd_line} {:.1},{DD_TOP:.1}", g.x(n.saturating_sub(1)));
    // Six dates evenly spaced; the date alone unless the whole range is one day.
    if n > 1 {
        let one_day = equity[0].time.get(..10) == equity[n - 1].time.get(..10);
        for k in 0..6 {
            let i = k * (n - 1) / 5;
            let t = &equity[i].time;
            let label = if one_day { t.get(11..16).unwrap_or(t) } else { t.get(..10).unwrap_or(t) };
            g.dates.push((g.x(i), label.to_string()));
        }
    }
    let at: HashMap<&str, usize> = equity.iter().enumerate().map(|(i, p)| (p.time.as_str(), i)).collect();
    g.spans = trades.iter().map(|t| Some((*at.get(t.entry_time.as_str())?, *at.get(t.exit_time.as_str())?))).collect();
    g
}

/// The equity and drawdown chart; `selected` is the trade (an index into `trades`) the trades
/// table picked, shaded on the chart.
#[component]
pub fn EquityChart(
    equity: Vec<EquityPoint>,
    trades: Vec<TradeRow>,
    selected: RwSignal<Option<usize>>,
) -> impl IntoView {
    // Log by default when the curves span more than ten times over (a linear axis would flatten
    // the strategy beside a ticker that grew that much).
    let (lo, hi) = finite_range(equity.iter().flat_map(|p| [p.equity, p.hold]));
    let log = RwSignal::new(lo > 0.0 && hi / lo > 10.0);
    let show_hold = RwSignal::new(true);
    let equity = StoredValue::new(equity);
    let trades = StoredValue::new(trades);
    let g = Memo::new(move |_| {
        let scale = Scale { log: log.get(), hold: show_hold.get() };
        equity.with_value(|e| trades.with_value(|t| geometry(e, t, scale)))
    });
    let hover = RwSignal::new(None::<usize>);
    // The readout is announced only when the keyboard moved it: a pointer sweeping over the
    // chart would otherwise make a screen reader read out every bar it crossed.
    let keyed = RwSignal::new(false);
    let n = equity.with_value(Vec::len);
    // The pointer's x in viewBox units, however wide the SVG is drawn.
    let pick = move |ev: &web_sys::PointerEvent| {
        let Some(el) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let r = el.get_bounding_client_rect();
        if r.width() > 0.0 {
            let x = (ev.client_x() as f64 - r.left()) * W / r.width();
            keyed.set(false);
            hover.set(Some(g.with(|g| g.index_at(x))));
        }
    };
    let keys = move |ev: web_sys::KeyboardEvent| {
        let step = if ev.shift_key() { (n / 20).max(1) } else { 1 };
        let at = hover.get_untracked().unwrap_or(n.saturating_sub(1));
        let next = match ev.key().as_str() {
            "ArrowLeft" => at.saturating_sub(step),
            "ArrowRight" => (at + step).min(n.saturating_sub(1)),
            "Home" => 0,
            "End" => n.saturating_sub(1),
            "Escape" => {
                hover.set(None);
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        keyed.set(true);
        hover.set(Some(next));
    };
    let readout = move || {
        let i = hover.get()?;
        equity.with_value(|e| {
            let p = e.get(i)?;
            Some(format!(
                "{} · equity {:.4} · buy and hold {:.4} · drawdown {}",
                p.time,
                p.equity,
                p.hold,
                pct(p.drawdown)
            ))
        })
    };
    let markers = move || {
        g.with(|g| {
            // One marker per pixel column and kind: thousands of trades stay a light drawing.
            let mut seen = std::collections::BTreeSet::new();
            let eq: Vec<f64> = equity.with_value(|e| e.iter().map(|p| p.equity).collect());
            let mut out = Vec::new();
            for &(a, b) in g.spans.iter().flatten() {
                for (i, entry) in [(a, true), (b, false)] {
                    let x = g.x(i);
                    if seen.insert((x.round() as i64, entry)) && eq[i].is_finite() {
                        out.push((x, g.ey(eq[i]), entry));
                    }
                }
            }
            out
        })
    };
    view! {
        <div class="equity-chart">
            <div class="filters small">
                <p class="muted readout" data-testid="bt-readout" aria-live=move || if keyed.get() { "polite" } else { "off" }>
                    {move || readout().unwrap_or_else(|| "point at the chart (or focus it and use ← →) to read a bar".into())}
                </p>
                <label class="check"><input type="checkbox" data-testid="bt-show-hold" prop:checked=move || show_hold.get()
                    on:change=move |ev| show_hold.set(event_target_checked(&ev))/>" buy and hold"</label>
                <label class="check" title="equal returns are equal heights: a strategy beside a ticker that grew many times over stays readable">
                    <input type="checkbox" data-testid="bt-log" prop:checked=move || log.get()
                    on:change=move |ev| log.set(event_target_checked(&ev))/>" log scale"</label>
            </div>
            <svg class="chart-svg equity" data-testid="bt-equity" viewBox=format!("0 0 {W} {H}") role="application" tabindex="0"
                aria-roledescription="equity chart"
                aria-label="Equity and drawdown of the strategy beside buy and hold. Left and right arrows read one bar (Shift: a twentieth of the bars), Home and End the ends, Escape clears."
                on:pointermove=move |ev| pick(&ev) on:pointerdown=move |ev| pick(&ev)
                on:pointerleave=move |_| hover.set(None) on:keydown=keys>
                {move || g.with(|g| view! {
                    {g.y_ticks.iter().map(|&t| { let y = g.ey(t); view! {
                        <line class="gridline" x1=LEFT x2=W - RIGHT y1=y y2=y/>
                        <text class="tick" x=LEFT - 6.0 y=y + 3.0 text-anchor="end">{format!("{t:.prec$}", prec = g.y_decimals)}</text>
                    } }).collect_view()}
                    {g.dd_ticks.iter().map(|&t| { let y = g.dy(t); view! {
                        <line class="gridline" x1=LEFT x2=W - RIGHT y1=y y2=y/>
                        <text class="tick" x=LEFT - 6.0 y=y + 3.0 text-anchor="end">{pct(t)}</text>
                    } }).collect_view()}
                    {g.dates.iter().enumerate().map(|(k, (x, label))| {
                        // The end labels stay inside the plot.
                        let anchor = if k == 0 { "start" } else if k + 1 == g.dates.len() { "end" } else { "middle" };
                        view! {
                            <line class="gridline" x1=*x x2=*x y1=EQ_TOP y2=DD_BOT/>
                            <text class="tick" data-testid="bt-date" x=*x y=H - 6.0 text-anchor=anchor>{label.clone()}</text>
                        }
                    }).collect_view()}
                    <text class="tick" x=LEFT + 4.0 y=DD_TOP - 6.0>"drawdown"</text>
                    <polygon class="drawdown" data-testid="bt-drawdown" points=g.drawdown.clone()/>
                    {(!g.hold.is_empty()).then(|| view! { <polyline class="hold" data-testid="bt-hold" points=g.hold.clone()/> })}
                    <polyline class="train" data-testid="bt-equity-line" points=g.equity.clone()/>
                    <rect class="frame" x=LEFT y=EQ_TOP width=PLOT_W height=EQ_BOT - EQ_TOP/>
                    <rect class="frame" x=LEFT y=DD_TOP width=PLOT_W height=DD_BOT - DD_TOP/>
                    // Separate texts, not tspans: each is an element the view knows as SVG.
                    <text class="legend l-strategy" data-testid="bt-legend" x=LEFT + 8.0 y=EQ_TOP + 14.0>"— strategy"</text>
                    {(!g.hold.is_empty()).then(|| view! { <text class="legend l-hold" x=LEFT + 80.0 y=EQ_TOP + 14.0>"- - buy and hold"</text> })}
                    <text class="legend l-marks" x=LEFT + 190.0 y=EQ_TOP + 14.0>"▲ entry ● exit"</text>
                })}
                {move || markers().into_iter().map(|(x, y, entry)| if entry {
                    view! { <path class="mark entry" d=format!("M{:.1},{:.1} l-3.5,6 h7 z", x, y + 2.0)/> }.into_any()
                } else {
                    view! { <circle class="mark exit" cx=x cy=y r="2.5"/> }.into_any()
                }).collect_view()}
                {move || selected.get().and_then(|k| g.with(|g| g.spans.get(k).copied().flatten().map(|(a, b)| {
                    let (x0, x1) = (g.x(a), g.x(b));
                    view! { <rect class="selected-trade" data-testid="bt-selected-trade" x=x0 - 1.0 y=EQ_TOP width=(x1 - x0).max(0.0) + 2.0 height=DD_BOT - EQ_TOP/> }
                })))}
                {move || hover.get().map(|i| g.with(|g| {
                    let x = g.x(i);
                    let e = equity.with_value(|e| e.get(i).map(|p| p.equity).unwrap_or(f64::NAN));
                    let y = if e.is_finite() { g.ey(e) } else { EQ_TOP };
                    view! {
                        <line class="crosshair" data-testid="bt-crosshair" x1=x x2=x y1=EQ_TOP y2=DD_BOT/>
                        <line class="crosshair" x1=LEFT x2=W - RIGHT y1=y y2=y/>
                        <rect class="axis-label" x=0 y=y - 8.0 width=LEFT - 2.0 height="16"/>
                        <text class="axis-label-text" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{format!("{e:.3}")}</text>
                    }
                }))}
            </svg>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn point(i: usize, equity: f64) -> EquityPoint {
        EquityPoint { time: format!("2020-01-{:02}", 1 + i % 28), equity, drawdown: 0.0, hold: 1.0 }
    }

    #[wasm_bindgen_test]
    fn the_deepest_point_is_drawn_and_the_pointer_reads_the_bar_under_it() {
        let mut e: Vec<EquityPoint> = (0..50_000).map(|i| point(i, 1.0 + (i % 7) as f64 * 1e-3)).collect();
        e[31_337].equity = 0.5;
        let g = geometry(&e, &[], Scale { log: false, hold: true });
        let y = format!("{:.1}", g.ey(0.5));
        assert!(g.equity.split(' ').any(|p| p.ends_with(&format!(",{y}"))), "the dip at 0.5 is a vertex");
        assert!(g.equity.split(' ').count() < 2 * PLOT_W as usize + 4, "at most two points per column");
        assert_eq!(g.index_at(LEFT), 0);
        assert_eq!(g.index_at(W - RIGHT), 49_999);
        assert_eq!(g.index_at(-5.0), 0, "left of the plot: the first bar");
        assert_eq!(g.dates.len(), 6);
        // A log axis: 1 → 100 spans the plot, 10 sits halfway.
        let e: Vec<EquityPoint> = (0..1000).map(|i| point(i, 1.0 + 99.0 * i as f64 / 999.0)).collect();
        let g = geometry(&e, &[], Scale { log: true, hold: false });
        assert!((g.ey(10.0) - (g.ey(1.0) + g.ey(100.0)) / 2.0).abs() < 1e-9);
        assert!(g.y_ticks.contains(&10.0) && g.y_ticks.contains(&50.0), "{:?}", g.y_ticks);
        assert!(g.hold.is_empty(), "buy and hold hidden");
    }
}
