//! What a price chart draws beside the bars, decided here so the page only paints: the model's
//! own features as studies (a moving average or Bollinger bands over the prices, RSI or MACD in
//! a pane of their own, as TradingView places them), and a backtest's trades as marks on the
//! bars where they were filled.
//!
//! Studies are the features the model was trained on, computed by the same code
//! ([`FeatureSpec::compute`]), so the line a user reads is the column the trees split on.
//! Calendar features (hour, minute, weekday) are not drawn: they are the time axis itself.

use std::ops::Range;

use crate::backtest::{Side, Trade};
use crate::data::time::{format_ms, parse_timestamp, parse_tz};
use crate::data::Series;
use crate::features::{FeatureError, FeatureSpec};
use crate::matrix::{build_range, BuildError, BuildSpec};

/// Where a study is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Over the candles, on the price axis (its values are prices).
    Price,
    /// In a pane of its own under the candles, with its own axis.
    Pane,
}

/// A feature of the model that can be drawn, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub spec: FeatureSpec,
    /// The feature in its one wording (`bbands:20:2:2`), which names the study.
    pub id: String,
    pub place: Place,
}

/// One line of a study, as long as the series (`NaN` during warm-up).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The output column's name (`bbands_upper_20_2_2`).
    pub name: String,
    pub values: Vec<f64>,
    /// Drawn as bars from zero (MACD's histogram) rather than a line.
    pub histogram: bool,
}

/// A study computed over one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    pub id: String,
    pub place: Place,
    pub lines: Vec<Line>,
    /// Levels a reader of this indicator looks for (RSI's 30 and 70, MACD's zero).
    pub guides: Vec<f64>,
}

/// The canonical name of a feature, and which of its outputs go over the prices (`None`: all).
fn price_outputs(name: &str) -> Option<Option<&'static [usize]>> {
    match name {
        "sma" | "ema" | "wma" | "dema" | "tema" | "kama" | "bbands" => Some(None),
        // The session VWAP is a price; its distance from the close is not.
        "vwap" => Some(Some(&[0])),
        // The opening range's high and low are prices; the position inside it is not.
        "opening_range" => Some(Some(&[0, 1])),
        _ => None,
    }
}

/// Features that are the clock, not a reading of the prices.
fn is_calendar(name: &str) -> bool {
    matches!(name, "hour" | "minute_of_day" | "day_of_week")
}

fn guides(name: &str) -> Vec<f64> {
    match name {
        "rsi" | "custom_rsi" | "ultosc" => vec![30.0, 70.0],
        "stoch" | "stochrsi" | "mfi" => vec![20.0, 80.0],
        "willr" => vec![-80.0, -20.0],
        "cci" => vec![-100.0, 100.0],
        "adx" | "dx" => vec![25.0],
        "macd"
        | "ppo"
        | "mom"
        | "roc"
        | "cmo"
        | "aroonosc"
        | "linearreg_slope"
        | "logret"
        | "zscore"
        | "volume_zscore"
        | "momentum_score_total" => vec![0.0],
        _ => Vec::new(),
    }
}

/// The model's features that can be drawn, each once, in the model's order. A feature the
/// engine cannot read is left out (the model could not have been built with it).
pub fn choices(features: &[FeatureSpec]) -> Vec<Choice> {
    let mut out: Vec<Choice> = Vec::new();
    for f in features {
        let Ok(spec) = f.canonical() else { continue };
        let Ok(id) = spec.spec_string() else { continue };
        if is_calendar(&spec.name) || out.iter().any(|c| c.id == id) {
            continue;
        }
        let place = if price_outputs(&spec.name).is_some() { Place::Price } else { Place::Pane };
        out.push(Choice { spec, id, place });
    }
    out
}

/// What a chart opens with: the model's first band or average over the prices and its first
/// oscillator (RSI before any other) in a pane, as a chart of a strategy usually starts.
pub fn defaults(choices: &[Choice]) -> Vec<String> {
    let over =
        choices.iter().find(|c| c.spec.name == "bbands").or_else(|| choices.iter().find(|c| c.place == Place::Price));
    let pane = choices
        .iter()
        .find(|c| c.spec.name == "rsi")
        .or_else(|| choices.iter().find(|c| c.spec.name == "macd"))
        .or_else(|| choices.iter().find(|c| c.place == Place::Pane));
    over.into_iter().chain(pane).map(|c| c.id.clone()).collect()
}

/// One study over `series` (`tz`: the dataset's zone, for session features).
pub fn compute(choice: &Choice, series: &Series, tz: &str) -> Result<Study, FeatureError> {
    let names = choice.spec.outputs()?;
    let columns = choice.spec.compute(series, tz)?;
    let keep = price_outputs(&choice.spec.name).flatten();
    let lines = names
        .into_iter()
        .zip(columns)
        .enumerate()
        .filter(|(i, _)| keep.is_none_or(|k| k.contains(i)))
        .map(|(_, (name, values))| Line { histogram: name.contains("hist"), name, values })
        .collect();
    Ok(Study { id: choice.id.clone(), place: choice.place, lines, guides: guides(&choice.spec.name) })
}

impl Study {
    /// The study over `bars` only (computed over the whole series, so its warm-up is behind).
    pub fn slice(&self, bars: Range<usize>) -> Study {
        let lines = self
            .lines
            .iter()
            .map(|l| Line { values: l.values.get(bars.clone()).unwrap_or_default().to_vec(), ..l.clone() })
            .collect();
        Study { lines, ..self.clone() }
    }
}

/// The bars a model's build gave its features (its start to its end date, priced as it priced
/// them): studies drawn over these warm up as the trees' columns did.
pub fn built(series: &Series, spec: &BuildSpec, tz: &str) -> Result<Series, BuildError> {
    let zone = parse_tz(tz).ok_or_else(|| FeatureError::UnknownTimeZone(tz.to_string()))?;
    let (a, b) = build_range(series, spec, zone)?;
    Ok(series.slice(a, b).as_built(spec.raw_prices))
}

/// The bars of `series` a backtest was judged on, from the bar of its first equity point
/// (`first`, as the report writes times: in the dataset's zone `tz`) to that of its last.
/// Dates sort as the bars do, so they are bisected as written; a time of day is read back to
/// its instant first, since local times with offsets go backwards in the autumn's repeated hour.
pub fn tested(series: &Series, tz: &str, first: &str, last: &str) -> Range<usize> {
    let zone = parse_tz(tz).unwrap_or(chrono_tz::UTC);
    if first.len() == 10 {
        let at = |t: i64| format_ms(t, zone, true);
        let start = series.ts.partition_point(|&t| at(t).as_str() < first);
        let end = series.ts.partition_point(|&t| at(t).as_str() <= last).max(start);
        return start..end;
    }
    match (parse_timestamp(first, zone), parse_timestamp(last, zone)) {
        (Ok(a), Ok(b)) => {
            let start = series.ts.partition_point(|&t| t < a);
            start..series.ts.partition_point(|&t| t <= b).max(start)
        }
        _ => 0..0,
    }
}

/// A fill of a trade on the chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    /// The bar whose open filled it (the bar after the decision bar).
    pub bar: usize,
    pub price: f64,
    pub side: Side,
    /// An entry (else the exit).
    pub entry: bool,
    /// The trade's index in the report's trades.
    pub trade: usize,
}

/// The fills of `trades` on the bars `ts`: each trade's entry and exit at the open after its
/// decision bar, where the backtest filled it. A trade whose decision bar is not among `ts`
/// (bars of another range) has no marks.
pub fn marks(ts: &[i64], trades: &[Trade]) -> Vec<Mark> {
    let fill = |decided: i64| {
        let i = ts.binary_search(&decided).ok()?;
        // A decision on the last bar fills after it; the last bar is the nearest there is.
        Some((i + 1).min(ts.len() - 1))
    };
    let mut out = Vec::with_capacity(2 * trades.len());
    for (k, t) in trades.iter().enumerate() {
        let (Some(a), Some(b)) = (fill(t.entry_ts), fill(t.exit_ts)) else { continue };
        out.push(Mark { bar: a, price: t.entry_price, side: t.side, entry: true, trade: k });
        out.push(Mark { bar: b, price: t.exit_price, side: t.side, entry: false, trade: k });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::ExitReason;

    fn specs(list: &[&str]) -> Vec<FeatureSpec> {
        list.iter().map(|s| FeatureSpec::parse(s).unwrap()).collect()
    }

    fn walk(n: usize) -> Series {
        let close: Vec<f64> = (0..n).map(|i| 100.0 + (i as f64 * 0.3).sin() * 5.0 + i as f64 * 0.05).collect();
        Series {
            ticker: "X".into(),
            ts: (0..n as i64).map(|i| 1_700_000_000_000 + i * 86_400_000).collect(),
            open: close.iter().map(|c| c - 0.2).collect(),
            high: close.iter().map(|c| c + 1.0).collect(),
            low: close.iter().map(|c| c - 1.0).collect(),
            close,
            volume: vec![1000.0; n],
            adj_close: None,
        }
    }

    #[test]
    fn averages_and_bands_go_over_the_prices_oscillators_below_the_clock_nowhere() {
        let c = choices(&specs(&["sma:20", "rsi:14", "hour", "bbands:20:2", "macd", "sma:20", "vwap"]));
        let got: Vec<(&str, Place)> = c.iter().map(|c| (c.spec.name.as_str(), c.place)).collect();
        assert_eq!(
            got,
            vec![
                ("sma", Place::Price),
                ("rsi", Place::Pane),
                ("bbands", Place::Price),
                ("macd", Place::Pane),
                ("vwap", Place::Price)
            ]
        );
        assert_eq!(defaults(&c), vec![c[2].id.clone(), c[1].id.clone()]);
        assert!(defaults(&choices(&specs(&["hour", "day_of_week"]))).is_empty());
    }

    #[test]
    fn a_study_is_the_feature_column_the_model_reads() {
        let s = walk(300);
        let c = choices(&specs(&["bbands:20:2", "macd:12:26:9", "vwap"]));
        let bb = compute(&c[0], &s, "UTC").unwrap();
        let columns = c[0].spec.compute(&s, "UTC").unwrap();
        assert_eq!(bb.lines.len(), 3);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (line, column) in bb.lines.iter().zip(&columns) {
            assert_eq!(bits(&line.values), bits(column));
        }
        let macd = compute(&c[1], &s, "UTC").unwrap();
        assert_eq!(macd.lines.iter().filter(|l| l.histogram).count(), 1);
        assert_eq!(macd.guides, vec![0.0]);
        // VWAP over the prices: its level, not its distance from the close.
        let vwap = compute(&c[2], &s, "UTC").unwrap();
        assert_eq!(vwap.lines.len(), 1);
        assert_eq!(vwap.lines[0].name, "vwap");
    }

    #[test]
    fn the_tested_bars_are_found_by_the_times_the_report_writes() {
        let s = walk(50);
        let fmt = |i: usize| format_ms(s.ts[i], chrono_tz::UTC, true);
        let span = tested(&s, "UTC", &fmt(20), &fmt(34));
        assert_eq!(span, 20..35);
        let cut = s.slice(span.start, span.end);
        assert_eq!((cut.ts.len(), cut.close[0]), (15, s.close[20]));
        let study = compute(&choices(&specs(&["sma:5"]))[0], &s, "UTC").unwrap().slice(span);
        assert_eq!(study.lines[0].values.len(), 15);
        assert!(study.lines[0].values.iter().all(|v| v.is_finite()), "warm-up stays before the slice");
        assert_eq!(tested(&s, "UTC", "2100-01-01", "2100-02-01"), 50..50);
        // Times of day, across New York's repeated autumn hour (01:00-01:59 twice, 2024-11-03).
        let zone: chrono_tz::Tz = "America/New_York".parse().unwrap();
        let hourly = Series {
            ts: (0..8).map(|h| 1_730_606_400_000 + h * 1_800_000).collect(), // 2024-11-03 04:00Z on, every 30 min
            ..walk(8)
        };
        let fmt = |i: usize| format_ms(hourly.ts[i], zone, false);
        assert!(fmt(3) > fmt(4), "the strings go backwards: {} then {}", fmt(3), fmt(4));
        assert_eq!(tested(&hourly, "America/New_York", &fmt(1), &fmt(6)), 1..7);
    }

    #[test]
    fn a_trade_is_marked_where_it_was_filled() {
        let s = walk(10);
        let trade = |a: usize, b: usize| Trade {
            entry_ts: s.ts[a],
            exit_ts: s.ts[b],
            entry_row: a,
            exit_row: b,
            entry_price: s.open[(a + 1).min(9)],
            exit_price: s.open[(b + 1).min(9)],
            size: 1.0,
            side: Side::Long,
            pnl: 0.0,
            ret: 0.0,
            bars_held: b - a,
            prob: 0.6,
            exit_reason: ExitReason::Signal,
        };
        let mut other = trade(2, 4);
        other.entry_ts += 1; // a decision bar these bars do not hold
        let m = marks(&s.ts, &[trade(1, 3), other, trade(7, 9)]);
        let got: Vec<(usize, bool, usize)> = m.iter().map(|m| (m.bar, m.entry, m.trade)).collect();
        assert_eq!(got, vec![(2, true, 0), (4, false, 0), (8, true, 2), (9, false, 2)]);
        assert_eq!(m[0].price, s.open[2]);
    }
}
