//! Validity guards: a configuration counts toward a claim only if it learned at all, its lr
//! was chosen inside the searched grid, and few of its seeds diverged. A claim resting on a
//! configuration that fails any guard gets the verdict "invalid setting" with the reasons.
//!
//! - learned: the median over completed seeds of final test loss / initial (epoch 0) test
//!   loss is `<= max_loss_ratio`, AND in at least half of the completed seeds at least one
//!   index band ends below the largest threshold of `spectral.thresholds`;
//! - lr interior: with an lr search (the run lives in a sweep directory with
//!   `lr_search.json`), the chosen lr is not at an edge of the (possibly extended) grid;
//!   without an lr search the guard does not apply (recorded as `lr_searched = false`);
//! - diverged share: diverged seeds / all seeds `<= max_diverged_share`. Diverged seeds
//!   count in n as failures.

use crate::record::sweep_index::{SweepIndex, LR_SEARCH_JSON};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// The guard thresholds (configurable through [`super::ReportOptions`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Guards {
    /// Largest median final/initial test-loss ratio that counts as "learned".
    pub max_loss_ratio: f64,
    /// Largest share of diverged seeds.
    pub max_diverged_share: f64,
}

impl Default for Guards {
    fn default() -> Self {
        Guards {
            max_loss_ratio: 0.1,
            max_diverged_share: 0.2,
        }
    }
}

/// The guard definitions as printed in reports.
pub fn describe(g: &Guards) -> String {
    format!(
        "A configuration counts toward a claim only if (1) it learned: median final test loss / initial (epoch 0) test loss <= {} and, in at least half of its completed seeds, at least one index band ends below the largest threshold; (2) its lr, if chosen by an lr search, is not at an edge of the searched grid after the grid was extended at that edge (see lr_search.json); (3) at most {:.0}% of its seeds diverged (diverged seeds count in n as failures). A claim resting on a configuration that fails a guard is an \"invalid setting\".",
        g.max_loss_ratio,
        100.0 * g.max_diverged_share
    )
}

/// What the sweep's lr search says about one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LrInfo {
    /// The sweep's config id.
    pub config_id: String,
    pub chosen_lr: Option<f64>,
    /// "lower" / "upper" when the choice is at that edge of the final grid.
    pub at_edge: Option<String>,
    /// Learning rates added beyond the spec's grid, in the order they were tried.
    pub extended_with: Vec<f64>,
    /// The choice with the criterion read at half the search budget equals the final choice.
    pub stable_at_half_budget: Option<bool>,
    /// The search seeds are disjoint from the evaluation seeds.
    pub seeds_disjoint: Option<bool>,
    pub search_epochs: Option<u64>,
}

/// The lr-search record of the run at `run_dir` if it is a run of a sweep with an lr search.
pub fn lr_info(run_dir: &Path) -> Option<LrInfo> {
    let sweep_dir = run_dir.parent()?.parent()?;
    let text = std::fs::read_to_string(sweep_dir.join(LR_SEARCH_JSON)).ok()?;
    let doc: Value = serde_json::from_str(&text).ok()?;
    let index = SweepIndex::load(sweep_dir).ok()?;
    let name = run_dir.file_name()?;
    let run = index
        .runs
        .iter()
        .find(|r| r.dir.file_name() == Some(name))?;
    let c = doc["configs"]
        .as_array()?
        .iter()
        .find(|c| c["config_id"] == run.config_id.as_str())?;
    Some(LrInfo {
        config_id: run.config_id.clone(),
        chosen_lr: c["chosen_lr"].as_f64(),
        at_edge: c["chosen_at_edge"].as_str().map(str::to_string),
        extended_with: c["extended_with"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default(),
        stable_at_half_budget: c["stable_at_half_budget"].as_bool(),
        seeds_disjoint: doc["seeds_disjoint_from_evaluation"].as_bool(),
        search_epochs: doc["epochs"].as_u64(),
    })
}

/// The guard results of one configuration (structured, for report.json and plots).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardResult {
    /// All guards passed.
    pub passed: bool,
    /// One sentence per failed guard.
    pub reasons: Vec<String>,
    pub learned: bool,
    /// Median over completed seeds of final / initial test loss (NaN without a completed seed).
    pub loss_ratio: f64,
    /// Completed seeds with at least one index band below the largest threshold at the end.
    pub seeds_with_band_below_threshold: usize,
    pub lr_searched: bool,
    /// "lower"/"upper" if the chosen lr sits at that edge of the searched grid.
    pub lr_at_edge: Option<String>,
    pub diverged_share: f64,
}

/// Evaluate the guards from per-configuration numbers.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    g: &Guards,
    n_runs: usize,
    n_diverged: usize,
    loss_ratio: f64,
    seeds_with_band: usize,
    lr: Option<&LrInfo>,
) -> GuardResult {
    let completed = n_runs - n_diverged;
    let mut reasons = Vec::new();
    let bands_ok = completed > 0 && 2 * seeds_with_band >= completed;
    let ratio_ok = loss_ratio <= g.max_loss_ratio;
    let learned = bands_ok && ratio_ok;
    if completed == 0 {
        reasons.push("did not learn: no completed seed".to_string());
    } else {
        if !ratio_ok {
            reasons.push(format!(
                "did not learn: median final/initial test loss {} > {}",
                if loss_ratio.is_finite() {
                    format!("{loss_ratio:.3}")
                } else {
                    "undefined".into()
                },
                g.max_loss_ratio
            ));
        }
        if !bands_ok {
            reasons.push(format!(
                "did not learn: only {seeds_with_band} of {completed} completed seeds end with an index band below the largest threshold"
            ));
        }
    }
    let lr_at_edge = lr.and_then(|l| l.at_edge.clone());
    if let (Some(edge), Some(l)) = (&lr_at_edge, lr) {
        reasons.push(format!(
            "lr {} chosen at the {edge} edge of the searched grid{}",
            l.chosen_lr.map_or("?".into(), |x| format!("{x:e}")),
            if l.extended_with.is_empty() {
                String::new()
            } else {
                format!(
                    " (still at the edge after extending it with {})",
                    l.extended_with
                        .iter()
                        .map(|x| format!("{x:e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
    }
    let diverged_share = if n_runs == 0 {
        0.0
    } else {
        n_diverged as f64 / n_runs as f64
    };
    if diverged_share > g.max_diverged_share {
        reasons.push(format!(
            "{n_diverged} of {n_runs} seeds diverged ({:.0}% > {:.0}%)",
            100.0 * diverged_share,
            100.0 * g.max_diverged_share
        ));
    }
    GuardResult {
        passed: reasons.is_empty(),
        reasons,
        learned,
        loss_ratio,
        seeds_with_band_below_threshold: seeds_with_band,
        lr_searched: lr.is_some(),
        lr_at_edge,
        diverged_share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_guard_fails_on_its_own() {
        let g = Guards::default();
        let ok = evaluate(&g, 5, 0, 0.01, 5, None);
        assert!(ok.passed && ok.learned && !ok.lr_searched, "{ok:?}");
        // Not learned: loss ratio too high.
        let r = evaluate(&g, 5, 0, 0.5, 5, None);
        assert!(!r.passed && !r.learned && r.reasons[0].contains("did not learn"));
        // Not learned: no band below the threshold.
        let r = evaluate(&g, 5, 0, 0.01, 1, None);
        assert!(!r.passed && !r.learned);
        // lr at the edge.
        let lr = LrInfo {
            config_id: "x".into(),
            chosen_lr: Some(1.0),
            at_edge: Some("upper".into()),
            extended_with: vec![3.0],
            stable_at_half_budget: Some(true),
            seeds_disjoint: Some(true),
            search_epochs: Some(10),
        };
        let r = evaluate(&g, 5, 0, 0.01, 5, Some(&lr));
        assert!(!r.passed && r.learned && r.reasons[0].contains("upper edge"));
        // Diverged share: 1 of 5 passes (20%), 2 of 5 fails.
        assert!(evaluate(&g, 5, 1, 0.01, 4, None).passed);
        let r = evaluate(&g, 5, 2, 0.01, 3, None);
        assert!(!r.passed && r.reasons[0].contains("2 of 5 seeds diverged"));
        // All diverged.
        assert!(!evaluate(&g, 3, 3, f64::NAN, 0, None).learned);
    }
}
