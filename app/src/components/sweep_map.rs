//! A sweep at a glance: a metric over two of its dimensions (`engine::heatmap`), each cell a
//! button that opens its best run's backtest, and the distribution of Sharpe over every run
//! (`engine::report::histogram`, the bins the HTML report uses).

use leptos::prelude::*;

use engine::heatmap::{heatmap, Dim, Heatmap};
use engine::leaderboard::RankBy;
use engine::report::histogram;
use engine::run::Run;

use crate::format::definition;
use crate::route;
use crate::state::use_ctx;

/// The cell's background: green above zero and red below for a metric that straddles it,
/// else one green ramp from the smallest to the largest.
fn colour(v: f64, range: Option<(f64, f64)>) -> String {
    let Some((lo, hi)) = range.filter(|_| v.is_finite()) else { return "transparent".into() };
    let (rgb, t) = if lo < 0.0 && hi > 0.0 {
        if v >= 0.0 {
            ("26,152,80", v / hi)
        } else {
            ("215,48,39", v / lo)
        }
    } else if hi > lo {
        ("26,152,80", 0.15 + 0.85 * (v - lo) / (hi - lo))
    } else {
        ("26,152,80", 0.5)
    };
    format!("rgba({rgb},{:.3})", 0.12 + 0.6 * t.clamp(0.0, 1.0))
}

fn value_text(metric: RankBy, v: f64) -> String {
    match metric {
        _ if !v.is_finite() => {
            if v.is_nan() {
                "—".into()
            } else {
                "∞".into()
            }
        }
        RankBy::Return | RankBy::Cagr | RankBy::MaxDd | RankBy::WinRate => format!("{:.1}%", 100.0 * v),
        RankBy::Trades => format!("{v:.0}"),
        _ => format!("{v:.2}"),
    }
}

/// The map and the distribution for `runs` (a sweep, or the rows a filter shows).
#[component]
pub fn SweepMap(runs: Vec<Run>) -> impl IntoView {
    let ctx = use_ctx();
    let dims = Dim::varying(&runs);
    let first = |want: &[Dim], not: Option<Dim>| {
        want.iter()
            .copied()
            .find(|d| dims.contains(d) && Some(*d) != not)
            .or_else(|| dims.iter().copied().find(|d| Some(*d) != not))
    };
    let x0 = first(&[Dim::Policy], None).unwrap_or(Dim::Policy);
    let y0 = first(&[Dim::Hours, Dim::Variant], Some(x0)).unwrap_or(Dim::Model);
    let x = RwSignal::new(x0);
    let y = RwSignal::new(y0);
    let metric = RwSignal::new(RankBy::Sharpe);
    let runs = StoredValue::new(runs);
    let map = Memo::new(move |_| runs.with_value(|r| heatmap(r, x.get(), y.get(), metric.get())));
    let open = move |id: String| route::open_run(ctx, id);
    let dim_select = move |sig: RwSignal<Dim>, testid: &'static str, label: &'static str| {
        view! {
            <label>{label}<select data-testid=testid on:change=move |ev| { if let Some(d) = Dim::parse(&event_target_value(&ev)) { sig.set(d) } }>
                {Dim::ALL.into_iter().map(|d| view! { <option value=d.as_str() selected=move || sig.get() == d>{d.as_str()}</option> }).collect_view()}
            </select></label>
        }
    };
    let sharpes: Vec<f64> = runs.with_value(|r| r.iter().map(|r| r.metrics.sharpe).collect());
    view! {
        <div class="sweep-map" data-testid="sweep-map">
            <div class="filters">
                {dim_select(x, "map-x", "Columns")}
                {dim_select(y, "map-y", "Rows")}
                <label>"Metric"<select data-testid="map-metric" on:change=move |ev| { if let Ok(m) = event_target_value(&ev).parse::<RankBy>() { metric.set(m) } }>
                    {RankBy::ALL.into_iter().map(|m| view! { <option value=m.as_str() selected=move || metric.get() == m>{m.as_str()}</option> }).collect_view()}
                </select></label>
                <span class="small muted">{format!("varies: {}", dims.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", "))}</span>
            </div>
            {move || map.with(|h| grid(h, open))}
            <Distribution values=sharpes/>
        </div>
    }
}

fn grid(h: &Heatmap, open: impl Fn(String) + Copy + 'static) -> impl IntoView {
    let metric = h.metric;
    let title = definition(metric.as_str());
    view! {
        <div class="scroll-x">
        <table class="grid heatmap" data-testid="heatmap" title=title>
            <thead><tr>
                <th class="corner">{format!("{} ↓ · {} →", h.y.as_str(), h.x.as_str())}</th>
                {h.xs.iter().map(|x| view! { <th class="num">{x.clone()}</th> }).collect_view()}
            </tr></thead>
            <tbody>
                {h.ys.iter().zip(&h.cells).map(|(label, row)| view! {
                    <tr>
                        <th>{label.clone()}</th>
                        {row.iter().zip(&h.xs).map(|(cell, column)| match cell {
                            Some(c) => {
                                let id = c.run_id.clone();
                                let tip = format!("{} {} · {} · run {}{}", metric.as_str(), value_text(metric, c.value), label, id,
                                    if c.runs > 1 { format!(" · the best of {} runs", c.runs) } else { String::new() });
                                view! {
                                    <td class="num cell" style:background=colour(c.value, h.range)>
                                        <button class="link" data-testid="map-cell" data-run=id.clone() data-x=column.clone() data-y=label.clone() title=tip
                                            on:click=move |_| open(id.clone())>{value_text(metric, c.value)}
                                            {(c.runs > 1).then(|| view! { <sup class="muted">{c.runs}</sup> })}</button>
                                    </td>
                                }.into_any()
                            }
                            None => view! { <td class="num muted">"·"</td> }.into_any(),
                        }).collect_view()}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

/// How a metric spreads over the runs: a bar per bin, a zero line.
#[component]
fn Distribution(values: Vec<f64>) -> impl IntoView {
    let Some(h) = histogram(&values, 12) else { return ().into_any() };
    let (w, ht, pad) = (480.0, 120.0, 24.0);
    let max = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bins = h.counts.len();
    let bw = (w - 2.0 * pad) / bins as f64;
    let hi = h.lo + h.step * bins as f64;
    let x_of = |v: f64| pad + (v - h.lo) / (hi - h.lo) * (w - 2.0 * pad);
    let zero = (h.lo < 0.0 && hi > 0.0).then(|| x_of(0.0));
    view! {
        <figure class="distribution">
            <figcaption class="small muted" data-testid="sharpe-dist-caption">{format!("Sharpe over the {} runs", values.len())}</figcaption>
            <svg class="chart-svg dist" data-testid="sharpe-dist" viewBox=format!("0 0 {w} {ht}") role="img" aria-label="distribution of Sharpe over the runs">
                {h.counts.iter().enumerate().map(|(k, &c)| {
                    let bh = (ht - 2.0 * pad) * c as f64 / max;
                    let lo = h.lo + h.step * k as f64;
                    view! {
                        <rect class="bin" data-count=c.to_string() x=pad + bw * k as f64 + 1.0 y=ht - pad - bh width=(bw - 2.0).max(1.0) height=bh>
                            <title>{format!("{c} runs with Sharpe in [{lo:.2}, {:.2})", lo + h.step)}</title>
                        </rect>
                    }
                }).collect_view()}
                {zero.map(|x| view! { <line class="axis" x1=x x2=x y1=pad / 2.0 y2=ht - pad/> })}
                <line class="axis" x1=pad x2=w - pad y1=ht - pad y2=ht - pad/>
                <text class="tick" x=pad y=ht - 8.0>{format!("{:.2}", h.lo)}</text>
                <text class="tick" x=w - pad y=ht - 8.0 text-anchor="end">{format!("{hi:.2}")}</text>
                <text class="tick" x=pad y=pad / 2.0 + 4.0>{format!("{max} run{}", if max == 1.0 { "" } else { "s" })}</text>
            </svg>
        </figure>
    }
    .into_any()
}
