//! A sweep directory's index (sweep.json): the list of its runs, how consumers find them.
//! Written by `bandwise sweep` (see [`crate::app::sweep`]), read by reports and figures.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The per-configuration lr-search summary in a sweep directory.
pub const LR_SEARCH_JSON: &str = "lr_search.json";

/// The format identifier written into sweep.json.
pub const SWEEP_FORMAT: &str = "bandwise-sweep/1";

/// The sweep index file in a sweep directory.
pub const SWEEP_JSON: &str = "sweep.json";

/// Where run `id` of the sweep at `out` lives.
pub fn run_dir(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(id)
}

/// The failure record of run `label` (`failed/<label>.txt`, read by `bandwise status`).
pub fn failure_file(out: &Path, label: &str) -> PathBuf {
    out.join("failed").join(format!("{label}.txt"))
}

/// One run as listed in sweep.json.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedRun {
    pub index: usize,
    pub id: String,
    pub config_id: String,
    pub seed: u64,
    /// The run directory (absolute or relative like the sweep directory given to `load`).
    pub dir: PathBuf,
    /// Axis path -> value (JSON), seed included when the spec has seeds.
    pub values: serde_json::Map<String, Value>,
}

/// sweep.json read back: the run list of a sweep directory.
#[derive(Debug, Clone)]
pub struct SweepIndex {
    pub dir: PathBuf,
    pub name: String,
    pub runs: Vec<IndexedRun>,
    /// sweep.json as written.
    pub meta: Value,
}

impl SweepIndex {
    /// Read `dir/sweep.json`.
    pub fn load(dir: &Path) -> Result<SweepIndex> {
        let path = dir.join(SWEEP_JSON);
        let text = std::fs::read_to_string(&path).with_context(|| format!("{} is not a sweep directory (cannot read {SWEEP_JSON}); run `bandwise sweep SPEC --out {}` first", dir.display(), dir.display()))?;
        let meta: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        if meta["format"] != SWEEP_FORMAT {
            bail!(
                "{} has format {} but this bandwise reads {SWEEP_FORMAT}",
                path.display(),
                meta["format"]
            );
        }
        let mut runs = Vec::new();
        for (i, r) in meta["runs"]
            .as_array()
            .with_context(|| format!("{}: no `runs` list", path.display()))?
            .iter()
            .enumerate()
        {
            let s = |k: &str| {
                r[k].as_str()
                    .map(str::to_string)
                    .with_context(|| format!("{}: runs[{i}].{k} missing", path.display()))
            };
            runs.push(IndexedRun {
                index: i,
                id: s("id")?,
                config_id: s("config_id")?,
                seed: r["seed"].as_u64().unwrap_or(0),
                dir: dir.join(s("dir")?),
                values: r["values"].as_object().cloned().unwrap_or_default(),
            });
        }
        Ok(SweepIndex {
            dir: dir.to_path_buf(),
            name: meta["name"].as_str().unwrap_or("").to_string(),
            runs,
            meta,
        })
    }

    /// The config ids in run-list order, each once.
    pub fn config_ids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.runs {
            if !out.contains(&r.config_id.as_str()) {
                out.push(&r.config_id);
            }
        }
        out
    }

    /// The runs of one config id (its seeds), in run-list order.
    pub fn runs_of<'a>(&'a self, config_id: &'a str) -> impl Iterator<Item = &'a IndexedRun> + 'a {
        self.runs.iter().filter(move |r| r.config_id == config_id)
    }
}
