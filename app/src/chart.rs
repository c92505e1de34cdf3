//! Candlestick chart with a volume pane on a canvas: drag to pan, wheel to zoom, hover to read
//! a bar, double-click to see everything.
//!
//! Smooth at 10k+ bars because a frame never draws more than one mark per pixel column: when
//! several bars share a column they are drawn as one high-low range (a pixel cannot show more).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::CanvasRenderingContext2d;

use engine::data::Series;

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
}

struct Theme {
    bg: String,
    grid: String,
    text: String,
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
        up: css_var("--up", "#1a9b6c"),
        down: css_var("--down", "#d0453a"),
        volume: css_var("--volume", "#9aa7b8"),
        focus: css_var("--accent", "#2a62c8"),
    }
}

const AXIS_W: f64 = 64.0;
const AXIS_H: f64 = 22.0;

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

/// What one frame shows of a series: the visible bars, the pointer, the focused bar and the
/// clock the axis labels are in.
struct View {
    win: Window,
    hover: Option<f64>,
    focus: Option<usize>,
    clock: Clock,
}

fn draw(ctx: &CanvasRenderingContext2d, w: f64, h: f64, s: &Series, view: View) {
    let View { win, hover, focus, clock } = view;
    let t = theme();
    ctx.set_fill_style_str(&t.bg);
    ctx.fill_rect(0.0, 0.0, w, h);
    let n = s.ts.len();
    if n == 0 {
        return;
    }
    let plot_w = (w - AXIS_W).max(10.0);
    let price_h = ((h - AXIS_H) * 0.76).max(10.0);
    let vol_top = price_h + 6.0;
    let vol_h = (h - AXIS_H - vol_top).max(4.0);
    let first = win.start.floor().max(0.0) as usize;
    let last = (win.end.ceil() as usize).min(n);
    let bar_w = plot_w / (win.end - win.start);
    let x_of = |i: f64| (i - win.start + 0.5) * bar_w;

    let (mut lo, mut hi, mut vmax) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
    for i in first..last {
        if s.low[i].is_finite() {
            lo = lo.min(s.low[i]);
        }
        if s.high[i].is_finite() {
            hi = hi.max(s.high[i]);
        }
        if s.volume[i].is_finite() {
            vmax = vmax.max(s.volume[i]);
        }
    }
    if !lo.is_finite() || !hi.is_finite() {
        return;
    }
    let pad = ((hi - lo) * 0.06).max(hi.abs() * 1e-4).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let y_of = |p: f64| (hi - p) / (hi - lo) * price_h;
    let vy_of = |v: f64| vol_top + vol_h - if vmax > 0.0 { v / vmax * vol_h } else { 0.0 };

    // Grid and price axis.
    ctx.set_font("11px ui-monospace, SFMono-Regular, Menlo, monospace");
    ctx.set_line_width(1.0);
    ctx.set_stroke_style_str(&t.grid);
    ctx.set_fill_style_str(&t.text);
    let step = nice_step(hi - lo, 6.0);
    let mut p = (lo / step).ceil() * step;
    while p <= hi {
        let y = y_of(p).round() + 0.5;
        ctx.begin_path();
        ctx.move_to(0.0, y);
        ctx.line_to(plot_w, y);
        ctx.stroke();
        let _ = ctx.fill_text(&format::price(p), plot_w + 6.0, y + 4.0);
        p += step;
    }
    // Time axis: about one label per 110 px.
    let every = ((110.0 / bar_w).ceil() as usize).max(1);
    let mut i = first.div_ceil(every) * every;
    while i < last {
        let x = x_of(i as f64).round() + 0.5;
        ctx.begin_path();
        ctx.move_to(x, 0.0);
        ctx.line_to(x, h - AXIS_H);
        ctx.stroke();
        let _ = ctx.fill_text(&clock.label(s.ts[i]), x + 3.0, h - 7.0);
        i += every;
    }

    if bar_w >= 3.0 {
        let body = (bar_w * 0.7).max(1.0);
        for i in first..last {
            let (o, hgh, l, c) = (s.open[i], s.high[i], s.low[i], s.close[i]);
            let color = if c >= o { &t.up } else { &t.down };
            ctx.set_stroke_style_str(color);
            ctx.set_fill_style_str(color);
            let x = x_of(i as f64);
            ctx.begin_path();
            ctx.move_to(x.round() + 0.5, y_of(hgh));
            ctx.line_to(x.round() + 0.5, y_of(l));
            ctx.stroke();
            let (top, bot) = (y_of(o.max(c)), y_of(o.min(c)));
            ctx.fill_rect(x - body / 2.0, top, body, (bot - top).max(1.0));
            ctx.set_fill_style_str(&t.volume);
            let vy = vy_of(s.volume[i]);
            ctx.fill_rect(x - body / 2.0, vy, body, vol_top + vol_h - vy);
        }
    } else {
        // Several bars per pixel column: one range per column.
        let cols = plot_w.ceil() as usize;
        let mut i = first;
        for col in 0..cols {
            let col_end = ((col + 1) as f64 / bar_w + win.start).floor() as usize;
            let stop = col_end.min(last).max(i + 1).min(last);
            if i >= stop {
                break;
            }
            let (mut l, mut hgh, mut v) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
            for j in i..stop {
                l = l.min(s.low[j]);
                hgh = hgh.max(s.high[j]);
                v = v.max(s.volume[j]);
            }
            let color = if s.close[stop - 1] >= s.open[i] { &t.up } else { &t.down };
            let x = col as f64 + 0.5;
            ctx.set_stroke_style_str(color);
            ctx.begin_path();
            ctx.move_to(x, y_of(hgh));
            ctx.line_to(x, y_of(l) + 1.0);
            ctx.stroke();
            ctx.set_stroke_style_str(&t.volume);
            ctx.begin_path();
            ctx.move_to(x, vol_top + vol_h);
            ctx.line_to(x, vy_of(v));
            ctx.stroke();
            i = stop;
        }
    }

    if let Some(f) = focus.filter(|&f| f < n) {
        let x = x_of(f as f64);
        ctx.set_stroke_style_str(&t.focus);
        ctx.set_line_width(2.0);
        ctx.stroke_rect(
            x - bar_w.max(6.0) / 2.0 - 2.0,
            y_of(s.high[f]) - 6.0,
            bar_w.max(6.0) + 4.0,
            y_of(s.low[f]) - y_of(s.high[f]) + 12.0,
        );
        ctx.set_line_width(1.0);
    }

    // Crosshair and readout.
    let readout = hover
        .map(|x| (x / bar_w + win.start).floor() as i64)
        .filter(|&i| i >= 0 && (i as usize) < n)
        .map(|i| i as usize)
        .or(focus.filter(|&f| f < n));
    if let Some(i) = readout {
        let x = x_of(i as f64).round() + 0.5;
        ctx.set_stroke_style_str(&t.text);
        ctx.set_line_dash(&js_sys::Array::of2(&3.into(), &3.into())).ok();
        ctx.begin_path();
        ctx.move_to(x, 0.0);
        ctx.line_to(x, h - AXIS_H);
        ctx.stroke();
        ctx.set_line_dash(&js_sys::Array::new()).ok();
        let text = format!(
            "{}  {}  O {}  H {}  L {}  C {}  V {}",
            s.ticker,
            clock.label(s.ts[i]),
            format::price(s.open[i]),
            format::price(s.high[i]),
            format::price(s.low[i]),
            format::price(s.close[i]),
            format::compact(s.volume[i]),
        );
        ctx.set_fill_style_str(&t.bg);
        ctx.fill_rect(4.0, 4.0, text.len() as f64 * 6.7 + 8.0, 18.0);
        ctx.set_fill_style_str(&t.text);
        let _ = ctx.fill_text(&text, 8.0, 17.0);
    }
}

/// Bars of one ticker. `focus` (a bar index) centres the view on that bar and marks it.
#[component]
pub fn CandleChart(
    #[prop(into)] series: Signal<Option<Arc<Series>>>,
    #[prop(into)] focus: Signal<Option<usize>>,
    #[prop(into)] clock: Signal<Clock>,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let win = Rc::new(Cell::new(Window::full(0)));
    let hover = Rc::new(Cell::new(None::<f64>));
    let drag = Rc::new(Cell::new(None::<(f64, Window)>));
    let data: Rc<RefCell<Option<Arc<Series>>>> = Rc::new(RefCell::new(None));
    let focus_now = Rc::new(Cell::new(None::<usize>));

    let redraw = {
        let (win, hover, data, focus_now) = (win.clone(), hover.clone(), data.clone(), focus_now.clone());
        Rc::new(move || {
            // `try_`: a window resize can outlive this chart; then there is nothing to draw.
            let Some(el) = canvas.try_get_untracked().flatten() else { return };
            let dpr = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0);
            let (cw, ch) = (el.client_width() as f64, el.client_height() as f64);
            if cw <= 0.0 || ch <= 0.0 {
                return;
            }
            el.set_width((cw * dpr) as u32);
            el.set_height((ch * dpr) as u32);
            let Some(ctx) =
                el.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
            else {
                return;
            };
            let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
            if let Some(s) = data.borrow().as_ref() {
                let view =
                    View { win: win.get(), hover: hover.get(), focus: focus_now.get(), clock: clock.get_untracked() };
                draw(&ctx, cw, ch, s, view);
            }
        })
    };

    // New data or a new focus: reset or recentre the window, then draw.
    {
        let (win, data, redraw, focus_now) = (win.clone(), data.clone(), redraw.clone(), focus_now.clone());
        Effect::new(move |_| {
            let s = series.get();
            let f = focus.get();
            let _ = clock.get();
            let n = s.as_ref().map(|s| s.ts.len()).unwrap_or(0);
            let same =
                data.borrow().as_ref().map(|d| Arc::ptr_eq(d, s.as_ref().unwrap_or(d))).unwrap_or(false) && s.is_some();
            *data.borrow_mut() = s;
            focus_now.set(f);
            match f {
                Some(f) if f < n => {
                    let half = 60.0;
                    win.set(Window { start: f as f64 - half, end: f as f64 + half }.clamp(n));
                }
                _ if !same => win.set(Window::full(n)),
                _ => {}
            }
            redraw();
        });
    }

    let on_resize = {
        let redraw = redraw.clone();
        Closure::<dyn FnMut()>::new(move || redraw())
    };
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
    }
    on_resize.forget();

    let n_bars = {
        let data = data.clone();
        move || data.borrow().as_ref().map(|s| s.ts.len()).unwrap_or(0)
    };
    let plot_w =
        move || canvas.try_get_untracked().flatten().map(|c| c.client_width() as f64 - AXIS_W).unwrap_or(1.0).max(1.0);

    let on_wheel = {
        let (win, redraw, n_bars, hover) = (win.clone(), redraw.clone(), n_bars.clone(), hover.clone());
        move |ev: web_sys::WheelEvent| {
            ev.prevent_default();
            let w = win.get();
            let x = ev.offset_x() as f64;
            let anchor = w.start + x / plot_w() * (w.end - w.start);
            let factor = if ev.delta_y() > 0.0 { 1.2 } else { 1.0 / 1.2 };
            win.set(w.zoom(factor, anchor, n_bars()));
            hover.set(Some(x));
            redraw();
        }
    };
    let on_down = {
        let (win, drag) = (win.clone(), drag.clone());
        move |ev: web_sys::MouseEvent| drag.set(Some((ev.client_x() as f64, win.get())))
    };
    let on_move = {
        let (win, drag, hover, redraw, n_bars) =
            (win.clone(), drag.clone(), hover.clone(), redraw.clone(), n_bars.clone());
        move |ev: web_sys::MouseEvent| {
            if let Some((x0, w0)) = drag.get() {
                let bars = (x0 - ev.client_x() as f64) / plot_w() * (w0.end - w0.start);
                win.set(w0.pan(bars, n_bars()));
            }
            hover.set(Some(ev.offset_x() as f64));
            redraw();
        }
    };
    let on_up = {
        let drag = drag.clone();
        move |_| drag.set(None)
    };
    let on_leave = {
        let (drag, hover, redraw) = (drag.clone(), hover.clone(), redraw.clone());
        move |_| {
            drag.set(None);
            hover.set(None);
            redraw();
        }
    };
    let on_dbl = {
        let (win, redraw) = (win.clone(), redraw.clone());
        move |_| {
            win.set(Window::full(n_bars()));
            redraw();
        }
    };

    view! {
        <canvas
            class="chart"
            data-testid="chart"
            data-focus=move || focus.get().map(|f| f.to_string())
            node_ref=canvas
            on:wheel=on_wheel
            on:mousedown=on_down
            on:mousemove=on_move
            on:mouseup=on_up
            on:mouseleave=on_leave
            on:dblclick=on_dbl
        ></canvas>
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
    }

    #[wasm_bindgen_test]
    fn ticks_are_round() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.0, 6.0), 1.0);
    }
}
