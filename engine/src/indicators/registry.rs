//! The indicator registry: parse `"rsi:14"`-style specs, name output columns, compute from bars.

use std::fmt;
use std::str::FromStr;

use super::{check_period, check_real, IndicatorError, Ohlcv};

/// One configured indicator. Parse it from a spec (`"macd:12:26:9"`), ask for its output column
/// names, compute it from [`Ohlcv`] bars. Parameters follow TA-Lib's order and defaults.
#[derive(Debug, Clone, PartialEq)]
pub enum Indicator {
    Sma { period: usize },
    Ema { period: usize },
    Wma { period: usize },
    Dema { period: usize },
    Tema { period: usize },
    Kama { period: usize },
    Rsi { period: usize },
    Stoch { fastk: usize, slowk: usize, slowd: usize },
    StochRsi { period: usize, fastk: usize, fastd: usize },
    Macd { fast: usize, slow: usize, signal: usize },
    Ppo { fast: usize, slow: usize },
    Roc { period: usize },
    Mom { period: usize },
    Cci { period: usize },
    Cmo { period: usize },
    Willr { period: usize },
    Mfi { period: usize },
    Adx { period: usize },
    PlusDi { period: usize },
    MinusDi { period: usize },
    Dx { period: usize },
    Aroon { period: usize },
    AroonOsc { period: usize },
    UltOsc { period1: usize, period2: usize, period3: usize },
    Bbands { period: usize, nbdevup: f64, nbdevdn: f64 },
    Atr { period: usize },
    Natr { period: usize },
    Trange,
    Obv,
    Ad,
    Adosc { fast: usize, slow: usize },
    Stddev { period: usize, nbdev: f64 },
    LinearRegSlope { period: usize },
}

#[derive(Clone, Copy)]
enum Kind {
    /// Integer period with its minimum.
    Int(usize),
    Real,
}

struct Def {
    name: &'static str,
    params: &'static [(&'static str, Kind, f64)],
    outputs: &'static [&'static str],
}

macro_rules! per {
    ($min:expr, $default:expr) => {
        ("period", Kind::Int($min), $default as f64)
    };
}

/// Registry table: name, parameters `(name, kind, default)` in TA-Lib order, output suffixes.
const DEFS: &[Def] = &[
    Def { name: "sma", params: &[per!(1, 30)], outputs: &[""] },
    Def { name: "ema", params: &[per!(1, 30)], outputs: &[""] },
    Def { name: "wma", params: &[per!(1, 30)], outputs: &[""] },
    Def { name: "dema", params: &[per!(1, 30)], outputs: &[""] },
    Def { name: "tema", params: &[per!(1, 30)], outputs: &[""] },
    Def { name: "kama", params: &[per!(1, 30)], outputs: &[""] },
    Def { name: "rsi", params: &[per!(2, 14)], outputs: &[""] },
    Def {
        name: "stoch",
        params: &[
            ("fastk_period", Kind::Int(1), 5.0),
            ("slowk_period", Kind::Int(1), 3.0),
            ("slowd_period", Kind::Int(1), 3.0),
        ],
        outputs: &["slowk", "slowd"],
    },
    Def {
        name: "stochrsi",
        params: &[per!(2, 14), ("fastk_period", Kind::Int(1), 5.0), ("fastd_period", Kind::Int(1), 3.0)],
        outputs: &["fastk", "fastd"],
    },
    Def {
        name: "macd",
        params: &[
            ("fast_period", Kind::Int(2), 12.0),
            ("slow_period", Kind::Int(2), 26.0),
            ("signal_period", Kind::Int(1), 9.0),
        ],
        outputs: &["", "signal", "hist"],
    },
    Def {
        name: "ppo",
        params: &[("fast_period", Kind::Int(2), 12.0), ("slow_period", Kind::Int(2), 26.0)],
        outputs: &[""],
    },
    Def { name: "roc", params: &[per!(1, 10)], outputs: &[""] },
    Def { name: "mom", params: &[per!(1, 10)], outputs: &[""] },
    Def { name: "cci", params: &[per!(2, 14)], outputs: &[""] },
    Def { name: "cmo", params: &[per!(2, 14)], outputs: &[""] },
    Def { name: "willr", params: &[per!(2, 14)], outputs: &[""] },
    Def { name: "mfi", params: &[per!(2, 14)], outputs: &[""] },
    Def { name: "adx", params: &[per!(2, 14)], outputs: &[""] },
    Def { name: "plus_di", params: &[per!(1, 14)], outputs: &[""] },
    Def { name: "minus_di", params: &[per!(1, 14)], outputs: &[""] },
    Def { name: "dx", params: &[per!(2, 14)], outputs: &[""] },
    Def { name: "aroon", params: &[per!(2, 14)], outputs: &["down", "up"] },
    Def { name: "aroonosc", params: &[per!(2, 14)], outputs: &[""] },
    Def {
        name: "ultosc",
        params: &[("period1", Kind::Int(1), 7.0), ("period2", Kind::Int(1), 14.0), ("period3", Kind::Int(1), 28.0)],
        outputs: &[""],
    },
    Def {
        name: "bbands",
        params: &[per!(2, 20), ("nbdevup", Kind::Real, 2.0), ("nbdevdn", Kind::Real, f64::NAN)],
        outputs: &["upper", "middle", "lower"],
    },
    Def { name: "atr", params: &[per!(1, 14)], outputs: &[""] },
    Def { name: "natr", params: &[per!(1, 14)], outputs: &[""] },
    Def { name: "trange", params: &[], outputs: &[""] },
    Def { name: "obv", params: &[], outputs: &[""] },
    Def { name: "ad", params: &[], outputs: &[""] },
    Def {
        name: "adosc",
        params: &[("fast_period", Kind::Int(2), 3.0), ("slow_period", Kind::Int(2), 10.0)],
        outputs: &[""],
    },
    Def { name: "stddev", params: &[per!(2, 5), ("nbdev", Kind::Real, 1.0)], outputs: &[""] },
    Def { name: "linearreg_slope", params: &[per!(2, 14)], outputs: &[""] },
];

/// Names of every registered indicator, in registry order.
pub const KNOWN_INDICATORS: &[&str] = &[
    "sma",
    "ema",
    "wma",
    "dema",
    "tema",
    "kama",
    "rsi",
    "stoch",
    "stochrsi",
    "macd",
    "ppo",
    "roc",
    "mom",
    "cci",
    "cmo",
    "willr",
    "mfi",
    "adx",
    "plus_di",
    "minus_di",
    "dx",
    "aroon",
    "aroonosc",
    "ultosc",
    "bbands",
    "atr",
    "natr",
    "trange",
    "obv",
    "ad",
    "adosc",
    "stddev",
    "linearreg_slope",
];

fn def(name: &str) -> Option<&'static Def> {
    DEFS.iter().find(|d| d.name == name)
}

fn usage(d: &Def) -> String {
    if d.params.is_empty() {
        return "no parameters".to_string();
    }
    let names: Vec<String> = d.params.iter().map(|(n, _, _)| n.to_string()).collect();
    format!("`{}:{}`", d.name, names.join(":"))
}

/// Format a parameter for a column name / canonical spec: integers plainly, reals shortest.
fn fmt_real(v: f64) -> String {
    format!("{v}")
}

impl Indicator {
    /// Parse one spec such as `"rsi:14"`, `"macd:12:26:9"`, `"bbands:20:2"` (one deviation for
    /// both bands) or `"bbands:20:2:1.5"` (up, down). Missing trailing parameters take TA-Lib's
    /// defaults (`"rsi"` is `rsi:14`). Names are case-insensitive; surrounding spaces are ignored.
    pub fn parse(spec: &str) -> Result<Indicator, IndicatorError> {
        let spec_trim = spec.trim();
        if spec_trim.is_empty() {
            return Err(IndicatorError::EmptySpec);
        }
        let mut tokens = spec_trim.split(':').map(str::trim);
        let name_tok = tokens.next().unwrap_or_default();
        let name = name_tok.to_ascii_lowercase();
        let Some(d) = def(&name) else {
            return Err(IndicatorError::UnknownIndicator {
                token: name_tok.to_string(),
                known: KNOWN_INDICATORS.join(", "),
            });
        };
        let mut vals: Vec<f64> = d.params.iter().map(|p| p.2).collect();
        for (i, tok) in tokens.enumerate() {
            if i >= d.params.len() {
                return Err(IndicatorError::TooManyParameters {
                    spec: spec_trim.to_string(),
                    token: tok.to_string(),
                    name: d.name,
                    usage: usage(d),
                });
            }
            let (pname, kind, _) = d.params[i];
            vals[i] = match kind {
                Kind::Int(min) => match tok.parse::<usize>() {
                    Ok(v) if v >= min && v <= super::MAX_PERIOD => v as f64,
                    _ => {
                        return Err(IndicatorError::BadParameter {
                            spec: spec_trim.to_string(),
                            token: tok.to_string(),
                            param: pname,
                            expected: match min {
                                1 => "an integer from 1 to 100000",
                                _ => "an integer from 2 to 100000",
                            },
                        })
                    }
                },
                Kind::Real => match tok.parse::<f64>() {
                    Ok(v) if v.is_finite() && v.abs() <= 3e37 => v,
                    _ => {
                        return Err(IndicatorError::BadParameter {
                            spec: spec_trim.to_string(),
                            token: tok.to_string(),
                            param: pname,
                            expected: "a finite number",
                        })
                    }
                },
            };
        }
        let u = |i: usize| vals[i] as usize;
        let ind = match d.name {
            "sma" => Indicator::Sma { period: u(0) },
            "ema" => Indicator::Ema { period: u(0) },
            "wma" => Indicator::Wma { period: u(0) },
            "dema" => Indicator::Dema { period: u(0) },
            "tema" => Indicator::Tema { period: u(0) },
            "kama" => Indicator::Kama { period: u(0) },
            "rsi" => Indicator::Rsi { period: u(0) },
            "stoch" => Indicator::Stoch { fastk: u(0), slowk: u(1), slowd: u(2) },
            "stochrsi" => Indicator::StochRsi { period: u(0), fastk: u(1), fastd: u(2) },
            "macd" => Indicator::Macd { fast: u(0), slow: u(1), signal: u(2) },
            "ppo" => Indicator::Ppo { fast: u(0), slow: u(1) },
            "roc" => Indicator::Roc { period: u(0) },
            "mom" => Indicator::Mom { period: u(0) },
            "cci" => Indicator::Cci { period: u(0) },
            "cmo" => Indicator::Cmo { period: u(0) },
            "willr" => Indicator::Willr { period: u(0) },
            "mfi" => Indicator::Mfi { period: u(0) },
            "adx" => Indicator::Adx { period: u(0) },
            "plus_di" => Indicator::PlusDi { period: u(0) },
            "minus_di" => Indicator::MinusDi { period: u(0) },
            "dx" => Indicator::Dx { period: u(0) },
            "aroon" => Indicator::Aroon { period: u(0) },
            "aroonosc" => Indicator::AroonOsc { period: u(0) },
            "ultosc" => Indicator::UltOsc { period1: u(0), period2: u(1), period3: u(2) },
            "bbands" => {
                let up = vals[1];
                let dn = if vals[2].is_nan() { up } else { vals[2] };
                Indicator::Bbands { period: u(0), nbdevup: up, nbdevdn: dn }
            }
            "atr" => Indicator::Atr { period: u(0) },
            "natr" => Indicator::Natr { period: u(0) },
            "trange" => Indicator::Trange,
            "obv" => Indicator::Obv,
            "ad" => Indicator::Ad,
            "adosc" => Indicator::Adosc { fast: u(0), slow: u(1) },
            "stddev" => Indicator::Stddev { period: u(0), nbdev: vals[1] },
            "linearreg_slope" => Indicator::LinearRegSlope { period: u(0) },
            other => unreachable!("registry entry {other} without a constructor"),
        };
        Ok(ind)
    }

    /// Parse a comma-separated list (`"rsi:14,macd:12:26:9,bbands:20:2"`); empty items are
    /// skipped.
    pub fn parse_list(specs: &str) -> Result<Vec<Indicator>, IndicatorError> {
        specs.split(',').filter(|s| !s.trim().is_empty()).map(Indicator::parse).collect()
    }

    /// Registry name (`"rsi"`, `"linearreg_slope"`, ...).
    pub fn name(&self) -> &'static str {
        use Indicator::*;
        match self {
            Sma { .. } => "sma",
            Ema { .. } => "ema",
            Wma { .. } => "wma",
            Dema { .. } => "dema",
            Tema { .. } => "tema",
            Kama { .. } => "kama",
            Rsi { .. } => "rsi",
            Stoch { .. } => "stoch",
            StochRsi { .. } => "stochrsi",
            Macd { .. } => "macd",
            Ppo { .. } => "ppo",
            Roc { .. } => "roc",
            Mom { .. } => "mom",
            Cci { .. } => "cci",
            Cmo { .. } => "cmo",
            Willr { .. } => "willr",
            Mfi { .. } => "mfi",
            Adx { .. } => "adx",
            PlusDi { .. } => "plus_di",
            MinusDi { .. } => "minus_di",
            Dx { .. } => "dx",
            Aroon { .. } => "aroon",
            AroonOsc { .. } => "aroonosc",
            UltOsc { .. } => "ultosc",
            Bbands { .. } => "bbands",
            Atr { .. } => "atr",
            Natr { .. } => "natr",
            Trange => "trange",
            Obv => "obv",
            Ad => "ad",
            Adosc { .. } => "adosc",
            Stddev { .. } => "stddev",
            LinearRegSlope { .. } => "linearreg_slope",
        }
    }

    /// Parameters as they appear in names and canonical specs (bbands shows one deviation when
    /// both are equal).
    fn param_strings(&self) -> Vec<String> {
        use Indicator::*;
        let s = |v: usize| v.to_string();
        match *self {
            Sma { period }
            | Ema { period }
            | Wma { period }
            | Dema { period }
            | Tema { period }
            | Kama { period }
            | Rsi { period }
            | Roc { period }
            | Mom { period }
            | Cci { period }
            | Cmo { period }
            | Willr { period }
            | Mfi { period }
            | Adx { period }
            | PlusDi { period }
            | MinusDi { period }
            | Dx { period }
            | Aroon { period }
            | AroonOsc { period }
            | Atr { period }
            | Natr { period }
            | LinearRegSlope { period } => vec![s(period)],
            Stoch { fastk, slowk, slowd } => vec![s(fastk), s(slowk), s(slowd)],
            StochRsi { period, fastk, fastd } => vec![s(period), s(fastk), s(fastd)],
            Macd { fast, slow, signal } => vec![s(fast), s(slow), s(signal)],
            Ppo { fast, slow } | Adosc { fast, slow } => vec![s(fast), s(slow)],
            UltOsc { period1, period2, period3 } => vec![s(period1), s(period2), s(period3)],
            Bbands { period, nbdevup, nbdevdn } => {
                if nbdevup == nbdevdn {
                    vec![s(period), fmt_real(nbdevup)]
                } else {
                    vec![s(period), fmt_real(nbdevup), fmt_real(nbdevdn)]
                }
            }
            Stddev { period, nbdev } => vec![s(period), fmt_real(nbdev)],
            Trange | Obv | Ad => vec![],
        }
    }

    /// Canonical spec string with every parameter spelled out (`"rsi:14"`, `"bbands:20:2"`).
    pub fn spec(&self) -> String {
        let mut s = self.name().to_string();
        for p in self.param_strings() {
            s.push(':');
            s.push_str(&p);
        }
        s
    }

    /// Output column names: `<name>[_<output>]_<params...>`, e.g. `rsi_14`, `macd_12_26_9`,
    /// `macd_signal_12_26_9`, `macd_hist_12_26_9`, `bbands_upper_20_2`, `aroon_down_14`, `obv`.
    pub fn outputs(&self) -> Vec<String> {
        let d = def(self.name()).expect("every variant is registered");
        let suffix: String = self.param_strings().iter().map(|p| format!("_{p}")).collect();
        d.outputs
            .iter()
            .map(|o| if o.is_empty() { format!("{}{suffix}", d.name) } else { format!("{}_{o}{suffix}", d.name) })
            .collect()
    }

    /// Number of leading bars without a value (TA-Lib's lookback).
    pub fn lookback(&self) -> usize {
        use Indicator::*;
        match *self {
            Sma { period } | Ema { period } | Wma { period } => period - 1,
            Dema { period } => 2 * (period - 1),
            Tema { period } => 3 * (period - 1),
            Kama { period } => {
                if period == 1 {
                    0
                } else {
                    period
                }
            }
            Rsi { period } | Cmo { period } | Roc { period } | Mom { period } | Mfi { period } | Dx { period } => {
                period
            }
            Aroon { period } | AroonOsc { period } | Atr { period } | Natr { period } => period,
            PlusDi { period } | MinusDi { period } => period,
            Cci { period } | Willr { period } | LinearRegSlope { period } => period - 1,
            Stddev { period, .. } | Bbands { period, .. } => period - 1,
            Adx { period } => 2 * period - 1,
            Stoch { fastk, slowk, slowd } => fastk - 1 + slowk - 1 + slowd - 1,
            StochRsi { period, fastk, fastd } => period + fastk - 1 + fastd - 1,
            Macd { fast, slow, signal } => fast.max(slow) - 1 + signal - 1,
            Ppo { fast, slow } => fast.max(slow) - 1,
            UltOsc { period1, period2, period3 } => period1.max(period2).max(period3),
            Adosc { fast, slow } => fast.max(slow) - 1,
            Trange => 1,
            Obv | Ad => 0,
        }
    }

    /// Check the parameters (what [`Indicator::parse`] already guarantees, for values built in
    /// code).
    pub fn validate(&self) -> Result<(), IndicatorError> {
        let d = def(self.name()).expect("every variant is registered");
        let ints: Vec<usize> = match *self {
            Indicator::Bbands { period, nbdevup, nbdevdn } => {
                check_real("bbands", "nbdevup", nbdevup)?;
                check_real("bbands", "nbdevdn", nbdevdn)?;
                vec![period]
            }
            Indicator::Stddev { period, nbdev } => {
                check_real("stddev", "nbdev", nbdev)?;
                vec![period]
            }
            _ => self.param_strings().iter().map(|p| p.parse().unwrap_or(0)).collect(),
        };
        for (v, (pname, kind, _)) in ints.iter().zip(d.params) {
            if let Kind::Int(min) = kind {
                check_period(d.name, pname, *v, *min)?;
            }
        }
        Ok(())
    }

    /// Compute every output (in [`Indicator::outputs`] order), each as long as the bars.
    pub fn compute(&self, bars: &Ohlcv) -> Result<Vec<Vec<f64>>, IndicatorError> {
        use super as ind;
        use Indicator::*;
        let (h, l, c, v) = (bars.high, bars.low, bars.close, bars.volume);
        Ok(match *self {
            Sma { period } => vec![ind::sma(c, period)?],
            Ema { period } => vec![ind::ema(c, period)?],
            Wma { period } => vec![ind::wma(c, period)?],
            Dema { period } => vec![ind::dema(c, period)?],
            Tema { period } => vec![ind::tema(c, period)?],
            Kama { period } => vec![ind::kama(c, period)?],
            Rsi { period } => vec![ind::rsi(c, period)?],
            Stoch { fastk, slowk, slowd } => {
                let s = ind::stoch(h, l, c, fastk, slowk, slowd)?;
                vec![s.slowk, s.slowd]
            }
            StochRsi { period, fastk, fastd } => {
                let s = ind::stochrsi(c, period, fastk, fastd)?;
                vec![s.fastk, s.fastd]
            }
            Macd { fast, slow, signal } => {
                let m = ind::macd(c, fast, slow, signal)?;
                vec![m.macd, m.signal, m.hist]
            }
            Ppo { fast, slow } => vec![ind::ppo(c, fast, slow)?],
            Roc { period } => vec![ind::roc(c, period)?],
            Mom { period } => vec![ind::mom(c, period)?],
            Cci { period } => vec![ind::cci(h, l, c, period)?],
            Cmo { period } => vec![ind::cmo(c, period)?],
            Willr { period } => vec![ind::willr(h, l, c, period)?],
            Mfi { period } => vec![ind::mfi(h, l, c, v, period)?],
            Adx { period } => vec![ind::adx(h, l, c, period)?],
            PlusDi { period } => vec![ind::plus_di(h, l, c, period)?],
            MinusDi { period } => vec![ind::minus_di(h, l, c, period)?],
            Dx { period } => vec![ind::dx(h, l, c, period)?],
            Aroon { period } => {
                let a = ind::aroon(h, l, period)?;
                vec![a.down, a.up]
            }
            AroonOsc { period } => vec![ind::aroonosc(h, l, period)?],
            UltOsc { period1, period2, period3 } => vec![ind::ultosc(h, l, c, period1, period2, period3)?],
            Bbands { period, nbdevup, nbdevdn } => {
                let b = ind::bbands(c, period, nbdevup, nbdevdn)?;
                vec![b.upper, b.middle, b.lower]
            }
            Atr { period } => vec![ind::atr(h, l, c, period)?],
            Natr { period } => vec![ind::natr(h, l, c, period)?],
            Trange => vec![ind::trange(h, l, c)?],
            Obv => vec![ind::obv(c, v)?],
            Ad => vec![ind::ad(h, l, c, v)?],
            Adosc { fast, slow } => vec![ind::adosc(h, l, c, v, fast, slow)?],
            Stddev { period, nbdev } => vec![ind::stddev(c, period, nbdev)?],
            LinearRegSlope { period } => vec![ind::linearreg_slope(c, period)?],
        })
    }
}

impl FromStr for Indicator {
    type Err = IndicatorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Indicator::parse(s)
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}
