//! The price chart, on a canvas: candles and volume, the model's studies over the prices or in
//! panes of their own (`engine::study`), a backtest's fills as arrows, a crosshair with its
//! price and time on the axes, a linear or log price axis. Mouse, touch and pen drive it
//! through pointer events (drag to pan, wheel or pinch to zoom, double-click to see all); the
//! keyboard too (arrows move the cursor bar, + and − zoom, Home and End, Escape resets).
//!
//! Ours rather than a charting library (measured against `lightweight-charts` on a million
//! bars: `tests/bench/chart.mjs`): a frame never draws more than one mark per pixel column —
//! bars sharing a column are drawn as their high-low range and a study as its min-max — so the
//! whole of a million bars can be on screen at once and a frame costs the same at any zoom.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;
use web_sys::CanvasRenderingContext2d;

use engine::backtest::Side;
use engine::data::Series;
use engine::study::{Mark, Place, Study};

use crate::format::{self, Clock};

/// The visible bar range, `[start, end)` as fractional bar indices so zooming is continuous.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    start: f64,
    end: f64,
}

impl Window {
    fn full(n: usize) -> Window {
        Window { start: 0.0, end: n.max(1) as f64 }
    }

    /// Keeps at least 10 bars visible and the window inside the data.
    fn clamp(self, n: usize) -> Window {
        let n = n.max(1) as f64;
        let width = (self.end - self.start).clamp(10f64.min(n), n);
        let start = self.start.clamp(0.0, n - width);
        Window { start, end: start + width }
    }

    fn zoom(self, factor: f64, anchor: f64, n: usize) -> Window {
        let start = anchor - (anchor - self.start) * factor;
        let end = anchor + (self.end - anchor) * factor;
        Window { start, end }.clamp(n)
    }

    fn pan(self, bars: f64, n: usize) -> Window {
        Window { start: self.start + bars, end: self.end + bars }.clamp(n)
    }

    /// The smallest move that brings bar `i` into view.
    fn reveal(self, i: usize, n: usize) -> Window {
        let x = i as f64;
        if x < self.start {
            self.pan(x - self.start, n)
        } else if x + 1.0 > self.end {
            self.pan(x + 1.0 - self.end, n)
        } else {
            self
        }
    }

    fn width(self) -> f64 {
        self.end - self.start
    }
}

struct Theme {
    bg: String,
    grid: String,
    text: String,
    ink: String,
    up: String,
    down: String,
    volume: String,
    focus: String,
}

fn css_var(name: &str, fallback: &str) -> String {
    let value = web_sys::window()
        .and_then(|w| {
            let el = w.document()?.document_element()?;
            w.get_computed_style(&el).ok().flatten()?.get_property_value(name).ok()
        })
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    if value.is_empty() {
        fallback.to_string()
    } else {
        value
    }
}

fn theme() -> Theme {
    Theme {
        bg: css_var("--panel", "#ffffff"),
        grid: css_var("--grid", "#e8e8e8"),
        text: css_var("--muted", "#666"),
        ink: css_var("--ink", "#1d2330"),
        up: css_var("--up", "#1a9b6c"),
        down: css_var("--down", "#d0453a"),
        volume: css_var("--volume", "#9aa7b8"),
        focus: css_var("--accent", "#2a62c8"),
    }
}

/// Study lines, in order; each reads on both themes.
const PALETTE: [&str; 6] = ["#e08a00", "#8a5cd6", "#0f95ad", "#c2417c", "#6b8e23", "#b5651d"];

const AXIS_W: f64 = 64.0;
const AXIS_H: f64 = 22.0;
/// Height of one study pane and the gap above it.
const PANE_H: f64 = 96.0;
const PANE_GAP: f64 = 8.0;
/// The candles' and volume's height, before the panes.
const MAIN_H: f64 = 420.0;

/// The canvas's CSS height for `panes` study panes.
fn height(panes: usize) -> f64 {
    MAIN_H + panes as f64 * (PANE_H + PANE_GAP)
}

/// Round tick step near `span / target`: 1, 2 or 5 × 10^k.
fn nice_step(span: f64, target: f64) -> f64 {
    let raw = (span / target).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let step = if norm < 1.5 {
        1.0
    } else if norm < 3.5 {
        2.0
    } else if norm < 7.5 {
        5.0
    } else {
        10.0
    };
    step * mag
}

/// Price ticks between `lo` and `hi`: round steps, or on a log axis spanning more than 3×
/// the 1-2-5 of each decade (evenly spaced on that axis).
fn price_ticks(lo: f64, hi: f64, log: bool) -> Vec<f64> {
    if log && lo > 0.0 && hi / lo > 3.0 {
        return engine::report::log_ticks(lo, hi);
    }
    let mut out = Vec::new();
    let step = nice_step(hi - lo, 6.0);
    let mut p = (lo / step).ceil() * step;
    while p <= hi && out.len() < 50 {
        out.push(p);
        p += step;
    }
    out
}

/// The pixel columns a window covers, each with the bars `[from, to)` it shows: one bar per
/// column when bars are wide, several when they are not.
fn columns(win: Window, n: usize, plot_w: f64) -> Vec<(f64, usize, usize)> {
    let first = win.start.floor().max(0.0) as usize;
    let last = (win.end.ceil() as usize).min(n);
    let bar_w = plot_w / win.width();
    if bar_w >= 1.0 {
        return (first..last).map(|i| ((i as f64 - win.start + 0.5) * bar_w, i, i + 1)).collect();
    }
    let mut out = Vec::with_capacity(plot_w as usize + 1);
    let mut i = first;
    for col in 0..plot_w.ceil() as usize {
        let stop = (((col + 1) as f64 / bar_w + win.start).floor() as usize).min(last).max(i + 1).min(last);
        if i >= stop {
            break;
        }
        out.push((col as f64 + 0.5, i, stop));
        i = stop;
    }
    // Rounding can leave the newest bar past the last column's edge: it belongs to that column.
    if let Some(c) = out.last_mut() {
        c.2 = last;
    }
    out
}

/// Lowest and highest finite value of `v[from..to]`.
fn range(v: &[f64], from: usize, to: usize) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &x in &v[from.min(v.len())..to.min(v.len())] {
        if x.is_finite() {
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    (lo <= hi).then_some((lo, hi))
}

/// Bars per block of an [`Envelope`].
const BLOCK: usize = 64;

/// Each block's lowest and highest finite value of one column.
struct Envelope {
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl Envelope {
    fn of(v: &[f64]) -> Envelope {
        let (lo, hi) =
            v.chunks(BLOCK).map(|c| range(c, 0, c.len()).unwrap_or((f64::INFINITY, f64::NEG_INFINITY))).unzip();
        Envelope { lo, hi }
    }
}

/// The ranges of the columns a chart draws, read a block at a time where a pixel column stands
/// for many bars: a frame with a million bars in view costs its pixel columns, not its bars.
/// Envelopes are made on first use and kept by the column's address, for as long as the chart
/// holds the same series and studies (it is cleared when they change).
#[derive(Default)]
struct Extents(RefCell<Vec<(usize, usize, Rc<Envelope>)>>);

impl Extents {
    fn range(&self, v: &[f64], a: usize, b: usize) -> Option<(f64, f64)> {
        let b = b.min(v.len());
        if b <= a || b - a < 4 * BLOCK {
            return range(v, a, b);
        }
        let key = (v.as_ptr() as usize, v.len());
        let env = {
            let mut cache = self.0.borrow_mut();
            match cache.iter().find(|e| (e.0, e.1) == key) {
                Some(e) => e.2.clone(),
                None => {
                    let e = Rc::new(Envelope::of(v));
                    cache.push((key.0, key.1, e.clone()));
                    e
                }
            }
        };
        let (first, last) = (a.div_ceil(BLOCK), b / BLOCK);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for part in [range(v, a, first * BLOCK), range(v, last * BLOCK, b)].into_iter().flatten() {
            lo = lo.min(part.0);
            hi = hi.max(part.1);
        }
        for k in first..last {
            lo = lo.min(env.lo[k]);
            hi = hi.max(env.hi[k]);
        }
        (lo <= hi).then_some((lo, hi))
    }

    fn clear(&self) {
        self.0.borrow_mut().clear();
    }
}

/// A vertical band of the canvas with its own value axis.
#[derive(Clone, Copy)]
struct Band {
    top: f64,
    height: f64,
    lo: f64,
    hi: f64,
    log: bool,
}

impl Band {
    fn y(&self, v: f64) -> f64 {
        let f = if self.log {
            (self.hi.ln() - v.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (self.hi - v) / (self.hi - self.lo)
        };
        self.top + f * self.height
    }

    fn value(&self, y: f64) -> f64 {
        let f = (y - self.top) / self.height;
        if self.log {
            (self.hi.ln() - f * (self.hi.ln() - self.lo.ln())).exp()
        } else {
            self.hi - f * (self.hi - self.lo)
        }
    }

    fn contains(&self, y: f64) -> bool {
        y >= self.top && y < self.top + self.height
    }

    /// Room above and below, so a line never sits on the frame.
    fn padded(lo: f64, hi: f64, top: f64, height: f64, log: bool) -> Band {
        let (lo, hi) = if log {
            let (a, b) = (lo.ln(), hi.ln());
            let pad = ((b - a) * 0.06).max(1e-4);
            ((a - pad).exp(), (b + pad).exp())
        } else {
            let pad = ((hi - lo) * 0.06).max(hi.abs() * 1e-4).max(1e-9);
            (lo - pad, hi + pad)
        };
        Band { top, height, lo, hi, log }
    }
}

/// Where the pointer or the keyboard put the crosshair.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cursor {
    bar: usize,
    /// The pointer's height, for the horizontal line and its value (none from the keyboard).
    y: Option<f64>,
}

/// Everything one frame shows.
struct Frame<'a> {
    s: &'a Series,
    studies: &'a [Arc<Study>],
    marks: &'a [Mark],
    selected: Option<usize>,
    win: Window,
    cursor: Option<Cursor>,
    focus: Option<usize>,
    clock: &'a Clock,
    log: bool,
    ext: &'a Extents,
}

/// The bands of a frame: prices, volume, then one per pane study, and the x of a bar.
struct Layout {
    plot_w: f64,
    price: Band,
    volume: Band,
    panes: Vec<(Arc<Study>, Band)>,
    bar_w: f64,
    start: f64,
}

impl Layout {
    fn x(&self, i: usize) -> f64 {
        (i as f64 - self.start + 0.5) * self.bar_w
    }
}

fn layout(w: f64, h: f64, f: &Frame<'_>) -> Option<Layout> {
    let n = f.s.ts.len();
    let plot_w = (w - AXIS_W).max(10.0);
    let first = f.win.start.floor().max(0.0) as usize;
    let last = (f.win.end.ceil() as usize).min(n);
    let panes: Vec<&Arc<Study>> = f.studies.iter().filter(|s| s.place == Place::Pane).collect();
    let main_h = (h - AXIS_H - panes.len() as f64 * (PANE_H + PANE_GAP)).max(60.0);
    let price_h = (main_h * 0.8).max(10.0);
    let (mut lo, mut hi) = (f.ext.range(&f.s.low, first, last)?.0, f.ext.range(&f.s.high, first, last)?.1);
    for s in f.studies.iter().filter(|s| s.place == Place::Price) {
        for l in &s.lines {
            if let Some((a, b)) = f.ext.range(&l.values, first, last) {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
    }
    let log = f.log && lo > 0.0;
    let price = Band::padded(lo, hi, 0.0, price_h, log);
    let vmax = f.ext.range(&f.s.volume, first, last).map_or(0.0, |r| r.1).max(1e-12);
    let volume = Band { top: price_h + 6.0, height: (main_h - price_h - 6.0).max(4.0), lo: 0.0, hi: vmax, log: false };
    let mut top = main_h + PANE_GAP;
    let panes = panes
        .into_iter()
        .map(|s| {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for l in &s.lines {
                if let Some((a, b)) = f.ext.range(&l.values, first, last) {
                    lo = lo.min(if l.histogram { a.min(0.0) } else { a });
                    hi = hi.max(if l.histogram { b.max(0.0) } else { b });
                }
            }
            for &g in &s.guides {
                lo = lo.min(g);
                hi = hi.max(g);
            }
            if lo > hi {
                (lo, hi) = (0.0, 1.0);
            }
            let band = Band::padded(lo, hi, top + 14.0, PANE_H - 14.0, false);
            top += PANE_H + PANE_GAP;
            (s.clone(), band)
        })
        .collect();
    Some(Layout { plot_w, price, volume, panes, bar_w: plot_w / f.win.width(), start: f.win.start })
}

/// A line through `v` over the window's columns: one point per bar, or each column's min and
/// max so no extreme is lost; NaN breaks the line.
fn trace(ctx: &CanvasRenderingContext2d, ext: &Extents, v: &[f64], cols: &[(f64, usize, usize)], band: &Band) {
    ctx.begin_path();
    let mut open = false;
    for &(x, a, b) in cols {
        match ext.range(v, a, b) {
            None => open = false,
            Some((lo, hi)) => {
                let (y_lo, y_hi) = (band.y(lo), band.y(hi));
                if open {
                    ctx.line_to(x, y_lo);
                } else {
                    ctx.move_to(x, y_lo);
                    open = true;
                }
                if b - a > 1 {
                    ctx.line_to(x, y_hi);
                }
            }
        }
    }
    ctx.stroke();
}

fn label_box(ctx: &CanvasRenderingContext2d, t: &Theme, text: &str, x: f64, y: f64) {
    let w = text.len() as f64 * 6.7 + 8.0;
    ctx.set_fill_style_str(&t.ink);
    ctx.fill_rect(x, y - 9.0, w, 18.0);
    ctx.set_fill_style_str(&t.bg);
    let _ = ctx.fill_text(text, x + 4.0, y + 4.0);
}

/// The value of a study line at bar `i`, as the readout writes it.
fn reading(v: &[f64], i: usize) -> String {
    v.get(i).filter(|x| x.is_finite()).map_or("—".into(), |&x| format::price(x))
}

/// Draws a frame; says whether its price axis is logarithmic (asked for, and every price positive).
fn draw(ctx: &CanvasRenderingContext2d, w: f64, h: f64, f: &Frame<'_>) -> bool {
    let t = theme();
    ctx.set_fill_style_str(&t.bg);
    ctx.fill_rect(0.0, 0.0, w, h);
    let s = f.s;
    let n = s.ts.len();
    if n == 0 {
        return false;
    }
    let Some(lay) = layout(w, h, f) else { return false };
    let cols = columns(f.win, n, lay.plot_w);
    let (price, volume) = (lay.price, lay.volume);
    ctx.set_font("11px ui-monospace, SFMono-Regular, Menlo, monospace");
    ctx.set_line_width(1.0);

    // Grid, price axis, time axis.
    ctx.set_stroke_style_str(&t.grid);
    ctx.set_fill_style_str(&t.text);
    for p in price_ticks(price.lo, price.hi, price.log) {
        let y = price.y(p).round() + 0.5;
        ctx.begin_path();
        ctx.move_to(0.0, y);
        ctx.line_to(lay.plot_w, y);
        ctx.stroke();
        let _ = ctx.fill_text(&format::price(p), lay.plot_w + 6.0, y + 4.0);
    }
    let every = ((110.0 / lay.bar_w).ceil() as usize).max(1);
    let first = f.win.start.floor().max(0.0) as usize;
    let last = (f.win.end.ceil() as usize).min(n);
    let mut i = first.div_ceil(every) * every;
    while i < last {
        let x = lay.x(i).round() + 0.5;
        ctx.begin_path();
        ctx.move_to(x, 0.0);
        ctx.line_to(x, h - AXIS_H);
        ctx.stroke();
        let _ = ctx.fill_text(&f.clock.label(s.ts[i]), x + 3.0, h - 7.0);
        i += every;
    }

    // Candles and volume: bodies when bars are wide, else each column's range.
    let body = (lay.bar_w * 0.7).max(1.0);
    for &(x, a, b) in &cols {
        let (o, c) = (s.open[a], s.close[b - 1]);
        let (lo, hi) =
            (f.ext.range(&s.low, a, b).map_or(f64::NAN, |r| r.0), f.ext.range(&s.high, a, b).map_or(f64::NAN, |r| r.1));
        let colour = if c >= o { &t.up } else { &t.down };
        ctx.set_stroke_style_str(colour);
        ctx.set_fill_style_str(colour);
        let xs = x.round() + 0.5;
        ctx.begin_path();
        ctx.move_to(xs, price.y(hi));
        ctx.line_to(xs, price.y(lo) + if lay.bar_w < 3.0 { 1.0 } else { 0.0 });
        ctx.stroke();
        let v = f.ext.range(&s.volume, a, b).map_or(0.0, |r| r.1);
        let vy = volume.y(v);
        if lay.bar_w >= 3.0 {
            let (top, bot) = (price.y(o.max(c)), price.y(o.min(c)));
            ctx.fill_rect(x - body / 2.0, top, body, (bot - top).max(1.0));
            ctx.set_fill_style_str(&t.volume);
            ctx.fill_rect(x - body / 2.0, vy, body, volume.top + volume.height - vy);
        } else {
            ctx.set_stroke_style_str(&t.volume);
            ctx.begin_path();
            ctx.move_to(xs, volume.top + volume.height);
            ctx.line_to(xs, vy);
            ctx.stroke();
        }
    }

    // Studies over the prices, then each pane with its guides, lines and histogram.
    let mut colour = 0;
    ctx.set_line_width(1.4);
    for st in f.studies.iter().filter(|s| s.place == Place::Price) {
        for l in &st.lines {
            ctx.set_stroke_style_str(PALETTE[colour % PALETTE.len()]);
            colour += 1;
            trace(ctx, f.ext, &l.values, &cols, &price);
        }
    }
    for (st, band) in &lay.panes {
        ctx.set_line_width(1.0);
        ctx.set_stroke_style_str(&t.grid);
        ctx.stroke_rect(0.5, band.top - 14.0 + 0.5, lay.plot_w - 1.0, PANE_H - 1.0);
        ctx.set_stroke_style_str(&t.text);
        ctx.set_fill_style_str(&t.text);
        ctx.set_line_dash(&js_sys::Array::of2(&2.into(), &3.into())).ok();
        for &g in &st.guides {
            let y = band.y(g).round() + 0.5;
            ctx.begin_path();
            ctx.move_to(0.0, y);
            ctx.line_to(lay.plot_w, y);
            ctx.stroke();
        }
        ctx.set_line_dash(&js_sys::Array::new()).ok();
        // Its guides are the levels read off it; else a few round values.
        let ticks = if st.guides.is_empty() { price_ticks(band.lo, band.hi, false) } else { st.guides.clone() };
        let every = ticks.len().div_ceil(3).max(1);
        for v in ticks.into_iter().step_by(every) {
            let _ = ctx.fill_text(&format::price(v), lay.plot_w + 6.0, band.y(v) + 4.0);
        }
        ctx.set_line_width(1.4);
        for l in &st.lines {
            if l.histogram {
                let zero = band.y(0.0);
                for &(x, a, b) in &cols {
                    let Some((lo, hi)) = f.ext.range(&l.values, a, b) else { continue };
                    let v = if hi.abs() >= lo.abs() { hi } else { lo };
                    ctx.set_fill_style_str(if v >= 0.0 { &t.up } else { &t.down });
                    let y = band.y(v);
                    ctx.fill_rect(
                        x - body.min(lay.bar_w) / 2.0,
                        y.min(zero),
                        body.min(lay.bar_w).max(1.0),
                        (zero - y).abs().max(1.0),
                    );
                }
            } else {
                ctx.set_stroke_style_str(PALETTE[colour % PALETTE.len()]);
                colour += 1;
                trace(ctx, f.ext, &l.values, &cols, band);
            }
        }
    }
    ctx.set_line_width(1.0);

    // Fills: buys point up from under the price, sells down from above; entries solid, exits
    // hollow; the selected trade joined and ringed.
    for m in f.marks.iter().filter(|m| (m.bar as f64) >= f.win.start.floor() && (m.bar as f64) < f.win.end) {
        let buy = (m.side == Side::Long) == m.entry;
        let x = lay.x(m.bar);
        let y = price.y(m.price);
        let picked = f.selected == Some(m.trade);
        // Smaller as bars narrow, so a decade of trades stays a row of ticks, not a wall.
        let size = if picked { 8.0 } else { (lay.bar_w * 0.8).clamp(2.5, 6.0) };
        let dir = if buy { 1.0 } else { -1.0 };
        ctx.begin_path();
        ctx.move_to(x, y + dir * 2.0);
        ctx.line_to(x - size, y + dir * (2.0 + 1.6 * size));
        ctx.line_to(x + size, y + dir * (2.0 + 1.6 * size));
        ctx.close_path();
        let colour = if buy { &t.up } else { &t.down };
        if m.entry {
            ctx.set_fill_style_str(colour);
            ctx.fill();
        }
        ctx.set_stroke_style_str(if picked { &t.focus } else { colour });
        ctx.set_line_width(if picked { 2.0 } else { 1.2 });
        ctx.stroke();
    }
    if let Some(k) = f.selected {
        let ends: Vec<&Mark> = f.marks.iter().filter(|m| m.trade == k).collect();
        if let [a, b] = ends[..] {
            ctx.set_stroke_style_str(&t.focus);
            ctx.set_line_width(1.5);
            ctx.set_line_dash(&js_sys::Array::of2(&4.into(), &3.into())).ok();
            ctx.begin_path();
            ctx.move_to(lay.x(a.bar), price.y(a.price));
            ctx.line_to(lay.x(b.bar), price.y(b.price));
            ctx.stroke();
            ctx.set_line_dash(&js_sys::Array::new()).ok();
        }
    }
    ctx.set_line_width(1.0);

    if let Some(i) = f.focus.filter(|&i| i < n) {
        let x = lay.x(i);
        ctx.set_stroke_style_str(&t.focus);
        ctx.set_line_width(2.0);
        let bw = lay.bar_w.max(6.0);
        ctx.stroke_rect(
            x - bw / 2.0 - 2.0,
            price.y(s.high[i]) - 6.0,
            bw + 4.0,
            price.y(s.low[i]) - price.y(s.high[i]) + 12.0,
        );
        ctx.set_line_width(1.0);
    }

    // Crosshair: the bar's line, the pointer's level, both read off on the axes; the bar's
    // numbers at the top and each pane's value in its corner.
    let Some(cur) = f.cursor.or(f.focus.map(|bar| Cursor { bar, y: None })).filter(|c| c.bar < n) else {
        for (st, band) in &lay.panes {
            ctx.set_fill_style_str(&t.text);
            let _ = ctx.fill_text(&st.id, 6.0, band.top - 3.0);
        }
        return price.log;
    };
    let i = cur.bar;
    let x = lay.x(i).round() + 0.5;
    ctx.set_stroke_style_str(&t.text);
    ctx.set_line_dash(&js_sys::Array::of2(&3.into(), &3.into())).ok();
    ctx.begin_path();
    ctx.move_to(x, 0.0);
    ctx.line_to(x, h - AXIS_H);
    ctx.stroke();
    if let Some(y) = cur.y.filter(|&y| y < h - AXIS_H) {
        ctx.begin_path();
        ctx.move_to(0.0, y.round() + 0.5);
        ctx.line_to(lay.plot_w, y.round() + 0.5);
        ctx.stroke();
    }
    ctx.set_line_dash(&js_sys::Array::new()).ok();
    let when = f.clock.label(s.ts[i]);
    let tw = when.len() as f64 * 6.7 + 8.0;
    label_box(ctx, &t, &when, (x - tw / 2.0).clamp(0.0, (lay.plot_w - tw).max(0.0)), h - AXIS_H / 2.0);
    if let Some(y) = cur.y {
        let value = if price.contains(y) {
            Some(format::price(price.value(y)))
        } else if volume.contains(y) {
            Some(format::compact(volume.value(y)))
        } else {
            lay.panes.iter().find(|(_, b)| b.contains(y)).map(|(_, b)| format::price(b.value(y)))
        };
        if let Some(v) = value {
            label_box(ctx, &t, &v, lay.plot_w + 1.0, y);
        }
    }
    let mut text = format!(
        "{}  {}  O {}  H {}  L {}  C {}  V {}",
        s.ticker,
        when,
        format::price(s.open[i]),
        format::price(s.high[i]),
        format::price(s.low[i]),
        format::price(s.close[i]),
        format::compact(s.volume[i]),
    );
    for st in f.studies.iter().filter(|s| s.place == Place::Price) {
        let values: Vec<String> = st.lines.iter().map(|l| reading(&l.values, i)).collect();
        text.push_str(&format!("  {} {}", st.id, values.join(" / ")));
    }
    ctx.set_fill_style_str(&t.bg);
    ctx.fill_rect(4.0, 4.0, text.len() as f64 * 6.7 + 8.0, 18.0);
    ctx.set_fill_style_str(&t.ink);
    let _ = ctx.fill_text(&text, 8.0, 17.0);
    for (st, band) in &lay.panes {
        let values: Vec<String> = st.lines.iter().map(|l| reading(&l.values, i)).collect();
        ctx.set_fill_style_str(&t.text);
        let _ = ctx.fill_text(&format!("{}  {}", st.id, values.join(" / ")), 6.0, band.top - 3.0);
    }
    price.log
}

/// The trade of the fill drawn within 12 px of (x, y), the nearest if several: what a click
/// picks.
fn nearest_mark(lay: &Layout, marks: &[Mark], x: f64, y: f64) -> Option<usize> {
    marks
        .iter()
        .map(|m| (m, (lay.x(m.bar) - x).hypot(lay.price.y(m.price) - y)))
        .filter(|(_, d)| *d <= 12.0)
        // An exit and the next entry filled on one bar at one price: the entry, the trade
        // that begins there.
        .min_by(|a, b| a.1.total_cmp(&b.1).then(b.0.entry.cmp(&a.0.entry)))
        .map(|(m, _)| m.trade)
}

/// What the chart holds between frames.
#[derive(Default)]
struct State {
    series: Option<Arc<Series>>,
    studies: Vec<Arc<Study>>,
    marks: Arc<Vec<Mark>>,
    selected: Option<usize>,
    focus: Option<usize>,
    log: bool,
    win: Option<Window>,
    cursor: Option<Cursor>,
    /// Pointers down: id and x (two make a pinch).
    pointers: Vec<(i32, f64)>,
    /// Where a drag or pinch began: the pointers' x (or spread) and the window then.
    grab: Option<(f64, Window)>,
    /// The pointer moved since it went down (then it is a drag, not a click).
    moved: bool,
    ext: Extents,
    /// The page's pick count when the focus was last brought into view.
    pick: u64,
}

impl State {
    fn n(&self) -> usize {
        self.series.as_ref().map_or(0, |s| s.ts.len())
    }

    fn win(&self) -> Window {
        self.win.unwrap_or(Window::full(self.n()))
    }
}

/// The readout a screen reader and a test read: the cursor bar's time and prices.
fn describe(s: &Series, clock: &Clock, i: usize) -> String {
    format!(
        "{} {}: open {}, high {}, low {}, close {}, volume {}",
        s.ticker,
        clock.label(s.ts[i]),
        format::price(s.open[i]),
        format::price(s.high[i]),
        format::price(s.low[i]),
        format::price(s.close[i]),
        format::compact(s.volume[i])
    )
}

/// Bars of one ticker with what a page draws over them. `focus` (a bar index) centres the view
/// on that bar and marks it; `marks` are a backtest's fills, `selected` the trade picked, and
/// a click (or Enter) on a fill calls `on_trade` with its trade.
#[component]
pub fn CandleChart(
    #[prop(into)] series: Signal<Option<Arc<Series>>>,
    #[prop(into)] focus: Signal<Option<usize>>,
    #[prop(into)] clock: Signal<Clock>,
    #[prop(optional, into)] studies: Signal<Vec<Arc<Study>>>,
    #[prop(optional, into)] marks: Signal<Arc<Vec<Mark>>>,
    #[prop(optional, into)] selected: Signal<Option<usize>>,
    #[prop(optional, into)] log: Signal<bool>,
    #[prop(optional)] on_trade: Option<Callback<usize>>,
    /// Counts the page's picks of the focus: a new count brings the focus back into view even
    /// when it is the bar already focused (the user panned away and picked the same trade).
    #[prop(optional, into)]
    pick: Signal<u64>,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let state = Rc::new(RefCell::new(State::default()));
    let readout = RwSignal::new(String::new());

    let redraw = {
        let state = state.clone();
        Rc::new(move || {
            // `try_`: a resize can outlive this chart; then there is nothing to draw.
            let Some(el) = canvas.try_get_untracked().flatten() else { return };
            let dpr = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0);
            let (cw, ch) = (el.client_width() as f64, el.client_height() as f64);
            if cw <= 0.0 || ch <= 0.0 {
                return;
            }
            let (pw, ph) = ((cw * dpr) as u32, (ch * dpr) as u32);
            if el.width() != pw || el.height() != ph {
                el.set_width(pw);
                el.set_height(ph);
            }
            let Some(ctx) =
                el.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
            else {
                return;
            };
            let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
            let st = state.borrow();
            let Some(s) = st.series.as_ref() else { return };
            let win = st.win();
            let clock = clock.get_untracked();
            let frame = Frame {
                s,
                studies: &st.studies,
                marks: &st.marks,
                selected: st.selected,
                win,
                cursor: st.cursor,
                focus: st.focus,
                clock: &clock,
                log: st.log,
                ext: &st.ext,
            };
            let log = draw(&ctx, cw, ch, &frame);
            // What a test (or a curious user in devtools) can read of a canvas.
            let _ = el.set_attribute("data-window", &format!("{:.0}-{:.0}", win.start, win.end));
            let _ = el.set_attribute("data-bars", &s.ts.len().to_string());
            let _ = el.set_attribute("data-marks", &st.marks.len().to_string());
            let ids: Vec<&str> = st.studies.iter().map(|s| s.id.as_str()).collect();
            let _ = el.set_attribute("data-studies", &ids.join(" "));
            let _ = el.set_attribute("data-log", &log.to_string());
            match st.cursor {
                Some(c) => el.set_attribute("data-cursor", &c.bar.to_string()),
                None => el.remove_attribute("data-cursor"),
            }
            .ok();
        })
    };

    // New data, studies, marks or focus: reset or recentre the window, then draw.
    {
        let (state, redraw) = (state.clone(), redraw.clone());
        Effect::new(move |_| {
            let s = series.get();
            let f = focus.get();
            let _ = clock.get();
            {
                let mut st = state.borrow_mut();
                let same = matches!((&st.series, &s), (Some(a), Some(b)) if Arc::ptr_eq(a, b));
                st.studies = studies.get();
                st.marks = marks.get();
                st.selected = selected.get();
                st.log = log.get();
                st.series = s;
                // A new focus (or a new pick of it) recentres; a study added or the log axis
                // switched keeps the view.
                let picked = pick.get();
                let moved = st.focus != f || !same || st.pick != picked;
                st.pick = picked;
                st.focus = f;
                st.ext.clear();
                let n = st.n();
                match f {
                    Some(f) if f < n && moved => {
                        // A bar already in a close view stays where it is; else it is centred.
                        let w = st.win();
                        if !(w.width() <= 130.0 && (f as f64) >= w.start && (f as f64) < w.end) {
                            let half = (w.width() / 2.0).clamp(30.0, 60.0);
                            st.win = Some(Window { start: f as f64 - half, end: f as f64 + half }.clamp(n));
                        }
                        st.cursor = Some(Cursor { bar: f, y: None });
                    }
                    _ if !same => {
                        st.win = None;
                        st.cursor = None;
                    }
                    _ => {}
                }
            }
            redraw();
        });
    }

    // One observer for the canvas's size, gone with the chart (a window listener per visit
    // would outlive it).
    {
        let redraw = redraw.clone();
        Effect::new(move |_| {
            let Some(el) = canvas.get() else { return };
            let redraw = redraw.clone();
            let callback = Closure::<dyn FnMut()>::new(move || redraw());
            let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) else { return };
            observer.observe(&el);
            let keep = SendWrapper::new((observer, callback));
            on_cleanup(move || keep.0.disconnect());
        });
    }

    let plot_w =
        move || canvas.try_get_untracked().flatten().map(|c| c.client_width() as f64 - AXIS_W).unwrap_or(1.0).max(1.0);
    let bar_of = move |st: &State, x: f64| {
        let w = st.win();
        let i = (x / plot_w() * w.width() + w.start).floor();
        (i >= 0.0 && (i as usize) < st.n()).then_some(i as usize)
    };
    // A fill within a few pixels of (x, y): what a click picks.
    let mark_at = {
        let state = state.clone();
        move |x: f64, y: f64| -> Option<usize> {
            let el = canvas.try_get_untracked().flatten()?;
            let st = state.borrow();
            let s = st.series.as_ref()?;
            let clock = clock.get_untracked();
            let frame = Frame {
                s,
                studies: &st.studies,
                marks: &st.marks,
                selected: st.selected,
                win: st.win(),
                cursor: None,
                focus: None,
                clock: &clock,
                log: st.log,
                ext: &st.ext,
            };
            let lay = layout(el.client_width() as f64, el.client_height() as f64, &frame)?;
            nearest_mark(&lay, &st.marks, x, y)
        }
    };

    let on_wheel = {
        let (state, redraw) = (state.clone(), redraw.clone());
        move |ev: web_sys::WheelEvent| {
            ev.prevent_default();
            {
                let mut st = state.borrow_mut();
                let (w, n) = (st.win(), st.n());
                let x = ev.offset_x() as f64;
                st.win = Some(if ev.delta_x().abs() > ev.delta_y().abs() {
                    w.pan(ev.delta_x() / plot_w() * w.width(), n)
                } else {
                    let anchor = w.start + x / plot_w() * w.width();
                    w.zoom(if ev.delta_y() > 0.0 { 1.2 } else { 1.0 / 1.2 }, anchor, n)
                });
                st.cursor = bar_of(&st, x).map(|bar| Cursor { bar, y: Some(ev.offset_y() as f64) });
            }
            redraw();
        }
    };
    let on_down = {
        let state = state.clone();
        move |ev: web_sys::PointerEvent| {
            // The main button (or a touch, or a pen's tip) drags; the others are the browser's.
            if ev.button() != 0 {
                return;
            }
            if let Some(el) = canvas.get_untracked() {
                let _ = el.set_pointer_capture(ev.pointer_id());
            }
            let mut st = state.borrow_mut();
            st.pointers.retain(|p| p.0 != ev.pointer_id());
            st.pointers.push((ev.pointer_id(), ev.offset_x() as f64));
            let w = st.win();
            st.grab = match st.pointers[..] {
                [(_, a)] => Some((a, w)),
                [(_, a), (_, b)] => Some(((a - b).abs().max(1.0), w)),
                _ => None,
            };
            st.moved = false;
        }
    };
    let on_move = {
        let (state, redraw) = (state.clone(), redraw.clone());
        move |ev: web_sys::PointerEvent| {
            {
                let mut st = state.borrow_mut();
                let (x, n) = (ev.offset_x() as f64, st.n());
                if let Some(p) = st.pointers.iter_mut().find(|p| p.0 == ev.pointer_id()) {
                    p.1 = x;
                }
                let pointers = st.pointers.clone();
                match (st.grab, &pointers[..]) {
                    (Some((x0, w0)), [_]) => {
                        if (x - x0).abs() > 3.0 {
                            st.moved = true;
                        }
                        st.win = Some(w0.pan((x0 - x) / plot_w() * w0.width(), n));
                    }
                    (Some((spread0, w0)), [(_, a), (_, b)]) => {
                        st.moved = true;
                        let anchor = w0.start + (a + b) / 2.0 / plot_w() * w0.width();
                        st.win = Some(w0.zoom(spread0 / (a - b).abs().max(1.0), anchor, n));
                    }
                    _ => {}
                }
                st.cursor = bar_of(&st, x).map(|bar| Cursor { bar, y: Some(ev.offset_y() as f64) });
            }
            redraw();
        }
    };
    let on_up = {
        let (state, mark_at) = (state.clone(), mark_at.clone());
        move |ev: web_sys::PointerEvent| {
            let click = {
                let mut st = state.borrow_mut();
                // Only a press that began on the chart can end in a click.
                let ours = st.pointers.iter().any(|p| p.0 == ev.pointer_id());
                st.pointers.retain(|p| p.0 != ev.pointer_id());
                let w = st.win();
                st.grab = st.pointers.first().map(|p| (p.1, w));
                ours && !st.moved && st.pointers.is_empty()
            };
            if click {
                if let (Some(k), Some(cb)) = (mark_at(ev.offset_x() as f64, ev.offset_y() as f64), on_trade) {
                    cb.run(k);
                }
            }
        }
    };
    let on_cancel = {
        let state = state.clone();
        move |ev: web_sys::PointerEvent| {
            let mut st = state.borrow_mut();
            st.pointers.retain(|p| p.0 != ev.pointer_id());
            st.grab = None;
        }
    };
    let on_leave = {
        let (state, redraw) = (state.clone(), redraw.clone());
        move |ev: web_sys::PointerEvent| {
            if ev.pointer_type() == "mouse" {
                state.borrow_mut().cursor = None;
                redraw();
            }
        }
    };
    let on_dbl = {
        let (state, redraw) = (state.clone(), redraw.clone());
        move |_| {
            {
                let mut st = state.borrow_mut();
                st.win = Some(Window::full(st.n()));
            }
            redraw();
        }
    };
    let on_key = {
        let (state, redraw) = (state.clone(), redraw.clone());
        move |ev: web_sys::KeyboardEvent| {
            // Ctrl/Cmd + and − zoom the page, Alt+← goes back: the browser's, not the chart's.
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let mut trade = None;
            {
                let mut st = state.borrow_mut();
                let n = st.n();
                if n == 0 {
                    return;
                }
                let w = st.win();
                let at = st.cursor.map_or_else(|| ((w.start + w.end) / 2.0) as usize, |c| c.bar).min(n - 1);
                let step = if ev.shift_key() { 10 } else { 1 };
                let go = |bar: usize| Some(Cursor { bar, y: None });
                match ev.key().as_str() {
                    "ArrowLeft" => st.cursor = go(at.saturating_sub(step)),
                    "ArrowRight" => st.cursor = go((at + step).min(n - 1)),
                    "Home" => st.cursor = go(0),
                    "End" => st.cursor = go(n - 1),
                    // A page of bars, the cursor with it (so revealing it keeps the new view).
                    "PageUp" | "PageDown" => {
                        let page = w.width().round().max(1.0) as usize;
                        let bar = if ev.key() == "PageUp" { at.saturating_sub(page) } else { (at + page).min(n - 1) };
                        st.win = Some(if ev.key() == "PageUp" { w.pan(-w.width(), n) } else { w.pan(w.width(), n) });
                        st.cursor = go(bar);
                    }
                    "+" | "=" => st.win = Some(w.zoom(1.0 / 1.25, at as f64 + 0.5, n)),
                    "-" | "_" => st.win = Some(w.zoom(1.25, at as f64 + 0.5, n)),
                    "Escape" | "0" => {
                        st.win = Some(Window::full(n));
                        st.cursor = None;
                    }
                    "Enter" => {
                        // An entry before an exit filled on the same bar: the trade that began there.
                        let on = |entry: bool| st.marks.iter().find(|m| m.bar == at && m.entry == entry);
                        trade = on(true).or_else(|| on(false)).map(|m| m.trade);
                    }
                    _ => return,
                }
                ev.prevent_default();
                if let Some(c) = st.cursor {
                    st.win = Some(st.win().reveal(c.bar, n));
                }
                if let (Some(s), Some(c)) = (st.series.as_ref(), st.cursor) {
                    readout.set(describe(s, &clock.get_untracked(), c.bar));
                }
            }
            redraw();
            if let (Some(k), Some(cb)) = (trade, on_trade) {
                cb.run(k);
            }
        }
    };
    let panes = move || studies.get().iter().filter(|s| s.place == Place::Pane).count();

    view! {
        <canvas
            class="chart"
            data-testid="chart"
            tabindex="0"
            role="application"
            aria-roledescription="price chart"
            aria-label="Price chart. Arrow keys move the cursor bar (Shift: ten bars), plus and minus zoom, Page Up and Page Down pan, Home and End jump to the ends, Escape shows everything, Enter opens the trade filled on the cursor bar."
            style=move || format!("height:{}px", height(panes()))
            data-focus=move || focus.get().map(|f| f.to_string())
            node_ref=canvas
            on:wheel=on_wheel
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_cancel
            on:pointerleave=on_leave
            on:dblclick=on_dbl
            on:keydown=on_key
        ></canvas>
        <p class="sr-only" data-testid="chart-readout" aria-live="polite">{move || readout.get()}</p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn window_stays_inside_data() {
        let w = Window::full(1000).zoom(0.5, 500.0, 1000);
        assert_eq!((w.start, w.end), (250.0, 750.0));
        let p = w.pan(1e6, 1000);
        assert_eq!((p.start, p.end), (500.0, 1000.0));
        let z = w.zoom(1e-6, 10.0, 1000);
        assert!((z.end - z.start - 10.0).abs() < 1e-9);
        let r = w.reveal(900, 1000);
        assert_eq!((r.start, r.end), (401.0, 901.0));
        assert_eq!(w.reveal(300, 1000), w);
    }

    #[wasm_bindgen_test]
    fn ticks_are_round() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.0, 6.0), 1.0);
        assert_eq!(price_ticks(3.0, 700.0, true), vec![5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0]);
        assert_eq!(price_ticks(10.0, 20.0, true), price_ticks(10.0, 20.0, false));
    }

    #[wasm_bindgen_test]
    fn every_bar_is_in_one_column_and_no_extreme_is_lost() {
        for (n, win, w) in [
            (1_000_000, Window::full(1_000_000), 900.0),
            (500, Window { start: 10.5, end: 300.0 }, 900.0),
            (1000, Window::full(1000), 334.0),
            (2000, Window::full(2000), 1201.0),
        ] {
            let cols = columns(win, n, w);
            assert!(cols.len() as f64 <= w + 1.0);
            let first = win.start.floor() as usize;
            assert_eq!(cols[0].1, first);
            assert!(cols.windows(2).all(|p| p[0].2 == p[1].1), "columns tile the bars");
            assert_eq!(cols.last().unwrap().2, (win.end.ceil() as usize).min(n));
        }
        let v: Vec<f64> = (0..10_000).map(|i| if i == 4321 { 99.0 } else { (i % 7) as f64 }).collect();
        let cols = columns(Window::full(v.len()), v.len(), 300.0);
        let top = cols.iter().filter_map(|&(_, a, b)| range(&v, a, b)).map(|r| r.1).fold(f64::MIN, f64::max);
        assert_eq!(top, 99.0);
        // Read by blocks, the same ranges as read bar by bar, at any cut.
        let ext = Extents::default();
        for (a, b) in [(0, 10_000), (3, 9_999), (64, 128), (100, 4000), (4300, 4400), (4321, 4322), (9_000, 20_000)] {
            assert_eq!(ext.range(&v, a, b), range(&v, a, b.min(v.len())), "{a}..{b}");
        }
    }

    #[wasm_bindgen_test]
    fn a_click_picks_the_nearest_fill() {
        let price = Band { top: 0.0, height: 100.0, lo: 0.0, hi: 100.0, log: false };
        let lay = Layout { plot_w: 100.0, price, volume: price, panes: Vec::new(), bar_w: 10.0, start: 0.0 };
        let mark = |bar: usize, price: f64, trade: usize| Mark { bar, price, side: Side::Long, entry: true, trade };
        let marks = [mark(2, 50.0, 0), mark(3, 50.0, 1), mark(8, 10.0, 2)];
        // Bar 2 is drawn at x = 25, bar 3 at 35; price 50 at y = 50.
        assert_eq!(nearest_mark(&lay, &marks, 27.0, 52.0), Some(0));
        assert_eq!(nearest_mark(&lay, &marks, 33.0, 50.0), Some(1));
        assert_eq!(nearest_mark(&lay, &marks, 60.0, 50.0), None);
        let exit_then_entry = [Mark { entry: false, ..mark(2, 50.0, 0) }, mark(2, 50.0, 1)];
        assert_eq!(nearest_mark(&lay, &exit_then_entry, 25.0, 50.0), Some(1));
    }

    #[wasm_bindgen_test]
    fn a_log_band_reads_back_what_it_draws() {
        let b = Band::padded(10.0, 1000.0, 0.0, 300.0, true);
        for v in [10.0, 31.6, 500.0] {
            assert!((b.value(b.y(v)) - v).abs() < 1e-9 * v);
        }
        // Equal ratios, equal heights.
        assert!(((b.y(10.0) - b.y(100.0)) - (b.y(100.0) - b.y(1000.0))).abs() < 1e-9);
    }
}
