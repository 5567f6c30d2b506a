//! The typed record schema: run.json ([`RunMeta`]) and the rows of epochs.csv
//! ([`EpochRecord`], written by [`epochs_csv`] and read back by `load::load_epochs`). One
//! writer for `bandwise run`, `bandwise analyze` and sweeps; the loader reads what it writes.
//!
//! epochs.csv columns, in order: `epoch, step, train_loss, test_loss`, the objective's metrics
//! (none for MSE), one column per hyperparameter (`lr` and `p` always, empty where the
//! optimizer has none, then every other scheduled one in the optimizer's order), `wall_s`.
//! The reader finds the metrics between `test_loss` and `lr` and the hyperparameters between
//! `lr` and `wall_s`, so a new scheduled hyperparameter reaches plots and reports with no
//! change here.
//!
//! run.json carries [`FORMAT`] (`bandwise-run/1`); the reader accepts files of this version.
//! Its keys are written sorted (serde_json without `preserve_order`), so the typed writer
//! produces the same bytes as the former `json!` literals.

use crate::record::{num, Csv, FORMAT};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::Path;

/// The hyperparameter columns every epochs.csv has, in this order (empty cells if absent).
pub const FIXED_HYPERS: [&str; 2] = ["lr", "p"];

/// One row of epochs.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    pub epoch: u64,
    pub step: u64,
    pub train_loss: f64,
    pub test_loss: f64,
    /// Values of the objective's metrics (order of `EpochsCsv::metric_names`).
    pub metrics: Vec<f64>,
    /// Values of the hyperparameters (order of `EpochsCsv::hyper_names`; NaN = unknown).
    pub hypers: Vec<f64>,
    pub wall_s: f64,
}

/// How wall_s is written: measured by `bandwise run` (fixed 6 decimals) or given to
/// `bandwise analyze` (shortest exact form, empty if unknown).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WallClock {
    Measured,
    Given,
}

/// The column layout of one epochs.csv.
#[derive(Debug, Clone)]
pub struct EpochsCsv {
    pub comments: Vec<String>,
    pub metric_names: Vec<String>,
    /// The hyperparameter columns, names of `EpochRecord::hypers` in order: `lr`, `p`, then
    /// the others (empty cells where NaN).
    pub hyper_names: Vec<String>,
    pub wall_clock: WallClock,
}

impl EpochsCsv {
    /// The file's text.
    pub fn render(&self, rows: &[EpochRecord]) -> String {
        let hyper_cols: Vec<&str> = self.hyper_names.iter().map(String::as_str).collect();
        let mut header: Vec<&str> = vec!["epoch", "step", "train_loss", "test_loss"];
        header.extend(self.metric_names.iter().map(String::as_str));
        header.extend(&hyper_cols);
        header.push("wall_s");
        let mut csv = Csv::new(self.comments.clone(), &header);
        for r in rows {
            let mut cells = vec![
                r.epoch.to_string(),
                r.step.to_string(),
                num(r.train_loss),
                num(r.test_loss),
            ];
            cells.extend(r.metrics.iter().map(|&m| num(m)));
            cells.extend(r.hypers.iter().map(|&h| num(h)));
            cells.push(match self.wall_clock {
                WallClock::Measured => format!("{:.6}", r.wall_s),
                WallClock::Given => num(r.wall_s),
            });
            csv.row(&cells);
        }
        csv.render()
    }
}

/// `status` and `diverged` of run.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diverged {
    pub epoch: u64,
    pub reason: String,
}

/// `target` of run.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetMeta {
    /// The 1D sine components (empty for 2D and scattered targets).
    pub components: Value,
    pub train_n: usize,
    pub test_n: usize,
}

/// `model` of run.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMeta {
    pub widths: Vec<usize>,
    pub n_params: usize,
}

/// `summary` of run.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummaryMeta {
    pub epochs_run: u64,
    pub steps: u64,
    pub final_train_loss: Option<f64>,
    pub final_test_loss: Option<f64>,
}

/// `timings` of run.json (trained runs only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timings {
    pub total_s: f64,
    pub train_s: f64,
    pub eval_s: f64,
    pub spectral_s: f64,
    pub us_per_step: f64,
}

/// run.json. The reader requires what every consumer needs (format, name, seed, status,
/// config) and defaults the rest, so hand-written fixtures stay readable; the writers always
/// fill every field. `config` is the experiment as run, with `config.optimizer` the resolved optimizer
/// table (`{"name": "imported", ...}` for `bandwise analyze`); it stays a JSON tree because
/// optimizers and targets are open sets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMeta {
    pub format: String,
    #[serde(default)]
    pub bandwise_version: String,
    pub name: String,
    pub seed: u64,
    /// The task fingerprint (imported runs; sweeps add it to trained runs' index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// "completed" or "diverged".
    pub status: String,
    #[serde(default)]
    pub diverged: Option<Diverged>,
    /// Where the predictions came from: `{"kind": "trained", "by": "bandwise run"}` or the
    /// provenance of an import.
    #[serde(default)]
    pub source: Value,
    pub config: Value,
    #[serde(default)]
    pub conventions: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelMeta>,
    /// Band layout conventions per analysed grid.
    #[serde(default)]
    pub bands: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<SummaryMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings: Option<Timings>,
    /// One line per file of the run directory.
    #[serde(default)]
    pub files: Map<String, Value>,
    /// Further top-level entries (the 2D target description, `engine::run2d::describe_2d`:
    /// the hook for the dimension-generic path to type).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RunMeta {
    /// The JSON tree as written (keys sorted).
    pub fn to_value(&self) -> Result<Value> {
        Ok(serde_json::to_value(self)?)
    }

    /// Parse run.json text; errors name the file and the field.
    pub fn parse(path: &Path, text: &str) -> Result<RunMeta> {
        let v: Value = serde_json::from_str(text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        if v["format"] != FORMAT {
            bail!(
                "{} has format {} but this bandwise reads {FORMAT}",
                path.display(),
                v["format"]
            );
        }
        serde_json::from_value(v).with_context(|| {
            format!(
                "{} does not match the {FORMAT} schema (record/schema.rs): re-run or re-import it",
                path.display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::load::load_epochs;

    fn row(epoch: u64, acc: f64, hypers: Vec<f64>) -> EpochRecord {
        EpochRecord {
            epoch,
            step: 2 * epoch,
            train_loss: 0.5,
            test_loss: f64::NAN,
            metrics: vec![acc],
            hypers,
            wall_s: 0.25,
        }
    }

    #[test]
    fn every_metric_and_hyperparameter_column_round_trips() {
        let csv = EpochsCsv {
            comments: vec!["test".into()],
            metric_names: vec!["train_accuracy".into()],
            hyper_names: vec!["lr".into(), "p".into(), "momentum".into()],
            wall_clock: WallClock::Measured,
        };
        let rows = [
            row(0, 0.1, vec![1e-3, f64::NAN, 0.9]),
            row(5, 0.7, vec![5e-4, f64::NAN, 0.95]),
        ];
        let text = csv.render(&rows);
        assert!(
            text.contains("epoch,step,train_loss,test_loss,train_accuracy,lr,p,momentum,wall_s\n"),
            "{text}"
        );
        assert!(
            text.contains("\n5,10,0.5,,0.7,0.0005,,0.95,0.250000\n"),
            "{text}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("epochs.csv");
        std::fs::write(&path, text).unwrap();
        let s = load_epochs(&path, Some(5)).unwrap();
        assert_eq!(s.epoch, [0, 5]);
        assert_eq!(s.metrics, [("train_accuracy".to_string(), vec![0.1, 0.7])]);
        let names: Vec<&str> = s.hypers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["lr", "p", "momentum"]);
        assert_eq!(s.hyper("momentum"), Some(&[0.9, 0.95][..]));
        assert_eq!(s.lr(), [1e-3, 5e-4]);
        assert!(s.p().iter().all(|p| p.is_nan()));
    }

    #[test]
    fn given_wall_clock_is_written_exactly_and_empty_when_unknown() {
        let csv = EpochsCsv {
            comments: vec![],
            metric_names: vec![],
            hyper_names: vec!["lr".into(), "p".into()],
            wall_clock: WallClock::Given,
        };
        let mut r = row(1, 0.0, vec![0.1, 0.5]);
        r.metrics.clear();
        let text = csv.render(&[
            r.clone(),
            EpochRecord {
                wall_s: f64::NAN,
                ..r
            },
        ]);
        assert!(
            text.contains("\n1,2,0.5,,0.1,0.5,0.25\n1,2,0.5,,0.1,0.5,\n"),
            "{text}"
        );
    }

    #[test]
    fn run_json_of_another_format_is_refused_with_the_file_named() {
        let err = RunMeta::parse(Path::new("x/run.json"), r#"{"format": "bandwise-run/0"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x/run.json") && err.contains("bandwise-run/1"),
            "{err}"
        );
        let err = RunMeta::parse(
            Path::new("x/run.json"),
            r#"{"format": "bandwise-run/1", "name": "a"}"#,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("schema"), "{err:#}");
    }
}
