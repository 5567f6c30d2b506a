//! Set-up shared by the end-to-end tests (`mod common;` in each): real runs from a config
//! text, the `bandwise` binary, PNG sizes, and fingerprints of run and sweep records for
//! comparing two of them.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use bandwise::engine::run::{run_experiment, RunOptions, RunSummary};
use bandwise::experiment::config::Experiment;
use bandwise::optim::Registry;
use bandwise::record::load::RunData;
use std::path::Path;
use std::process::Command;

/// Run the experiment of config `text` into `out`.
pub fn run_config(text: &str, out: &Path) -> RunSummary {
    let exp = Experiment::from_toml_str(text, "test").unwrap();
    run_experiment(&exp, &Registry::builtin(), out, RunOptions::default()).unwrap()
}

/// Run the experiment of config `text` into `dir` and load its record.
pub fn make_run(dir: &Path, text: &str) -> RunData {
    run_config(text, dir);
    RunData::load(dir).unwrap()
}

/// The `bandwise` binary with `args` (no RUST_BACKTRACE): (success, stdout, stderr).
pub fn bandwise_bin(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bandwise"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Width and height of a PNG file.
pub fn png_size(path: &Path) -> (u32, u32) {
    let dec = png::Decoder::new(std::fs::File::open(path).unwrap());
    let reader = dec.read_info().unwrap();
    (reader.info().width, reader.info().height)
}

/// A run's record without wall-clock columns and timings.
pub fn fingerprint(dir: &Path) -> String {
    let mut out = String::new();
    for f in ["bands.csv", "peaks.csv", "convergence.csv", "snapshots.csv"] {
        out += &std::fs::read_to_string(dir.join(f)).unwrap();
    }
    for line in std::fs::read_to_string(dir.join("epochs.csv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        out += &line[..line.rfind(',').unwrap()];
    }
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    meta["timings"] = serde_json::Value::Null;
    out + &meta.to_string()
}

/// Every run's fingerprint, then sweep.json, the files `extra` and the aggregates of a sweep
/// directory.
pub fn sweep_fingerprint(dir: &Path, extra: &[&str]) -> Vec<(String, String)> {
    let index = bandwise::app::sweep::SweepIndex::load(dir).unwrap();
    let mut out: Vec<(String, String)> = index
        .runs
        .iter()
        .map(|r| (r.id.clone(), fingerprint(&r.dir)))
        .collect();
    let files = ["sweep.json"].iter().chain(extra).chain(&[
        "aggregate/epochs.csv",
        "aggregate/bands.csv",
        "aggregate/configs.csv",
    ]);
    for f in files {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        out.push((f.to_string(), text));
    }
    out
}
