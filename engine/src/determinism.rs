//! The cross-target determinism check: the same computation run by a native test
//! (`engine/tests/matrix.rs`) and by a wasm test in Chromium (`app/tests/engine_wasm.rs`), each
//! asserting the same pinned hashes. Any difference in a single bit of a feature, a label, a
//! split, a leaf or a probability shows up as another sha.

use crate::gbt::{train, ColumnMatrix, TrainParams};
use crate::lineage::sha256_hex;
use crate::matrix::{build_matrix, BuildSpec, Matrix};
use crate::model::ModelSpec;

/// The demo file's AAPL `swingsigma` matrix, 2005-01-01..2012-12-31, 7-bar label.
pub fn demo_aapl_matrix(demo_csv_gz: &[u8]) -> Result<Matrix, String> {
    let ds = crate::data::load("stocks-daily-2000-2013.csv.gz", demo_csv_gz, &Default::default(), &mut |_| {})
        .map_err(|e| e.to_string())?;
    let series = ds.series.iter().find(|s| s.ticker == "AAPL").ok_or("no AAPL in the demo file")?;
    let model = ModelSpec::new("swingsigma", "AAPL").resolve().map_err(|e| e.to_string())?;
    let spec = BuildSpec {
        start: Some("2005-01-01".into()),
        end: Some("2012-12-31".into()),
        distance_max: Some(7),
        ..Default::default()
    };
    build_matrix(&model, series, &ds.tz, &spec).map_err(|e| e.to_string())
}

/// That matrix's `matrix_sha` and the SHA-256 of its bytes (every feature and label).
pub fn demo_matrix_hashes(demo_csv_gz: &[u8]) -> Result<(String, String), String> {
    let m = demo_aapl_matrix(demo_csv_gz)?;
    Ok((m.matrix_sha.clone(), sha256_hex(&m.to_bytes())))
}

/// 30 trees on that matrix with row bagging and column sampling under seed 7: the `model_sha`
/// and the SHA-256 of its probabilities on the matrix (little-endian bytes).
pub fn demo_model_hashes(demo_csv_gz: &[u8]) -> Result<(String, String), String> {
    let m = demo_aapl_matrix(demo_csv_gz)?;
    let x = ColumnMatrix::new(&m.feature_names, &m.features).map_err(|e| e.to_string())?;
    let params = TrainParams {
        num_trees: 30,
        bagging_fraction: 0.8,
        bagging_freq: 1,
        feature_fraction: 0.7,
        seed: 7,
        ..Default::default()
    };
    let booster = train(&x, &m.label, None, &params, &mut |_| {}).map_err(|e| e.to_string())?;
    let probs = booster.predict_proba(&x).map_err(|e| e.to_string())?;
    let bytes: Vec<u8> = probs.iter().flat_map(|p| p.to_le_bytes()).collect();
    Ok((booster.model_sha(), sha256_hex(&bytes)))
}

/// The sweep behind [`demo_sweep_hashes`] and [`demo_report_hashes`].
fn demo_sweep(demo_csv_gz: &[u8]) -> Result<DemoSweep, String> {
    use crate::gate::GateOverrides;
    use crate::risk::RiskProfile;
    let m = demo_aapl_matrix(demo_csv_gz)?;
    let params = TrainParams { num_trees: 40, max_leaves: 15, ..Default::default() };
    let spec = crate::oof::OofSpec::for_matrix(&m, params);
    let oof = crate::oof::compute(&m, &spec, &mut |_| {}).map_err(|e| e.to_string())?;
    let body = crate::sweep::SweepBody {
        thresholds_variants: vec!["0.50,0.55,0.60".into(), "0.55,0.60,0.65".into(), "0.60,0.65,0.70".into()],
        top_pct_variants: vec![0.10, 0.15],
        ..Default::default()
    };
    let configs = crate::sweep::expand(&body, &RiskProfile::Balanced.params()).map_err(|e| e.to_string())?;
    let mut base = crate::policy::Policy::thr(vec![0.5]);
    base.hold_bars = m.distance_max;
    base.commission_bps = 1.0;
    base.slippage_bps = 2.0;
    base.momentum_min = Some(-0.5);
    let settings = crate::run::RunSettings {
        model_id: "aapl_swing_daily".into(),
        pack_id: "swingsigma".into(),
        cadence: "daily".into(),
        oof_spec: spec,
        base,
        risk_profile: RiskProfile::Balanced,
        overrides: GateOverrides::default(),
        tag: Some("determinism".into()),
        created: "2026-01-01T00:00:00Z".into(),
        trials: None,
    };
    let runs = crate::sweep::run(&settings.context(&m, &oof), &configs).map_err(|e| e.to_string())?;
    Ok(DemoSweep { m, oof, runs })
}

struct DemoSweep {
    m: Matrix,
    oof: crate::oof::Oof,
    runs: Vec<crate::run::Run>,
}

/// A 5-split walk-forward sweep on that matrix (40 trees per fold, sigmoid calibration inside
/// each fold; three ladders and two top fractions with a time exit, costs and the momentum
/// gate): the out-of-fold key, the SHA-256 of the out-of-fold file, and the SHA-256 of the runs'
/// JSON. Every fold's model, calibrator, probability, trade and metric is behind these three.
pub fn demo_sweep_hashes(demo_csv_gz: &[u8]) -> Result<(String, String, String), String> {
    let DemoSweep { oof, runs, .. } = demo_sweep(demo_csv_gz)?;
    let json = serde_json::to_vec(&runs).map_err(|e| e.to_string())?;
    Ok((oof.key.clone(), sha256_hex(&oof.to_bytes()), sha256_hex(&json)))
}

/// The HTML reports of that sweep (`crate::report`): the SHA-256 of its best run's report (the
/// run judged again, as both shells do, with its curves and trades) and of its leaderboard's.
/// Pinned natively and in wasm, they show the page's "Download report" and `btb report` write
/// the same bytes for the same records.
pub fn demo_report_hashes(demo_csv_gz: &[u8]) -> Result<(String, String), String> {
    use crate::leaderboard::{rank, Query};
    use crate::report::{leaderboard_html, run_html, LeaderboardReportInput, Provenance, RunReportInput};
    let DemoSweep { m, oof, runs } = demo_sweep(demo_csv_gz)?;
    let rows = rank(&runs, &Query::default());
    let best = runs.iter().find(|r| Some(&r.run_id) == rows.first().map(|b| &b.run_id)).ok_or("no runs")?;
    let settings = crate::run::RunSettings::of_run(best, "daily");
    let config =
        crate::config::SweepConfig { config_sha: best.lineage.config_sha.clone(), config: best.config.clone() };
    let e = crate::run::evaluate(&settings.context(&m, &oof), &config).map_err(|e| e.to_string())?;
    let provenance =
        Provenance { producer: "determinism".into(), created: "2026-01-01T00:00:00Z".into(), bundle: None };
    let report = e.report(&m, "daily");
    let run =
        run_html(&RunReportInput { report: &report, model: None, status: "computed here", provenance: &provenance });
    let board = leaderboard_html(&LeaderboardReportInput {
        model_id: "aapl_swing_daily",
        model: None,
        query: &Query::default(),
        rows: &rows,
        statuses: &Default::default(),
        provenance: &provenance,
    });
    Ok((sha256_hex(run.as_bytes()), sha256_hex(board.as_bytes())))
}
