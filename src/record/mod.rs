//! The run directory: what a run writes and how it is read back.
//!
//! Files (CSV cells are plain numbers; an empty cell means "undefined", see run.json):
//! - run.json: resolved config, conventions block, status, bands, timings, provenance;
//! - epochs.csv: epoch, step, train_loss, test_loss, lr, p, [other scheduled hyperparameters], wall_s;
//! - bands.csv: grid, epoch, band, label, f_lo, f_hi, residual_energy, target_energy, rel_error, share;
//! - peaks.csv: grid, epoch, k, amplitude, fp_rel_error, fp_rel_error_mag, rahaman_amplitude;
//! - convergence.csv: grid, band, label, threshold, epoch (first epoch with rel_error < threshold; empty = never);
//! - snapshots.csv: epoch, t, target, prediction (training grid, at snapshot epochs);
//! - params_init.json, params_final.json (with `--save-params`);
//! - checkpoints/epoch_NNNNNN.json (at `record.checkpoints` epochs, see [`checkpoint`]).
//!
//! Every CSV starts with `#` comment lines stating its conventions (read with
//! `pandas.read_csv(path, comment="#")`). A run directory is written atomically: all files go
//! into a hidden staging directory beside it, which is renamed into place at the end, so a
//! directory with a run.json is always complete (see [`crate::record::commit`]).

pub mod checkpoint;
pub mod commit;
pub mod load;
pub mod schema;
pub mod sweep_index;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

pub use crate::record::commit::{write_atomic, write_atomic_with, Staging};

/// The format identifier written into run.json.
pub const FORMAT: &str = "bandwise-run/1";

pub fn csv_preamble(what: &str, exp_name: &str) -> Vec<String> {
    vec![
        format!(
            "bandwise {} {what} of run `{exp_name}`",
            env!("CARGO_PKG_VERSION")
        ),
        "conventions: full block in run.json (\"conventions\"); empty cell = undefined".into(),
    ]
}

/// A table to be written as CSV with comment lines on top.
pub struct Csv {
    pub comments: Vec<String>,
    pub header: Vec<String>,
    pub text: String,
}

impl Csv {
    pub fn new(comments: Vec<String>, header: &[&str]) -> Self {
        Csv {
            comments,
            header: header.iter().map(|s| s.to_string()).collect(),
            text: String::new(),
        }
    }

    /// Append one row of already formatted cells.
    pub fn row(&mut self, cells: &[String]) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.text.push_str(&cells.join(","));
        self.text.push('\n');
    }

    /// The comment lines and the header line, without the rows (to stream rows after it).
    pub fn head(&self) -> String {
        let mut out = String::new();
        for c in &self.comments {
            let _ = writeln!(out, "# {c}");
        }
        out.push_str(&self.header.join(","));
        out.push('\n');
        out
    }

    pub fn render(&self) -> String {
        self.head() + &self.text
    }
}

/// A number as a CSV cell: shortest round-trip form (e.g. 0.5, 1.0, 1.2e-33); NaN -> empty (undefined), inf -> "inf".
pub fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.is_infinite() {
        if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        // Debug formatting: shortest round-trip digits, exponent for very small/large values.
        format!("{x:?}")
    }
}

/// A CSV file read back: header and rows of cells (comment lines skipped). The cells are
/// kept as byte ranges into the text, so reading a large record allocates per file, not per cell.
#[derive(Debug, Clone)]
pub struct Table {
    pub header: Vec<String>,
    text: String,
    /// Byte range of every cell, row-major, `header.len()` per row.
    cells: Vec<(u32, u32)>,
}

impl Table {
    pub fn read(path: &Path) -> Result<Table> {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse_owned(text).with_context(|| format!("malformed CSV {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Table> {
        Self::parse_owned(text.to_string())
    }

    fn parse_owned(text: String) -> Result<Table> {
        let mut header: Option<Vec<String>> = None;
        let mut cells = Vec::new();
        let mut offset = 0usize;
        let mut row_no = 0;
        for line in text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let body = line.trim_end_matches(['\n', '\r']);
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            match &header {
                None => header = Some(body.split(',').map(str::to_string).collect()),
                Some(h) => {
                    row_no += 1;
                    let before = cells.len();
                    let mut pos = start;
                    for cell in body.split(',') {
                        cells.push((pos as u32, (pos + cell.len()) as u32));
                        pos += cell.len() + 1;
                    }
                    if cells.len() - before != h.len() {
                        bail!(
                            "row {row_no} has {} cells, the header has {}",
                            cells.len() - before,
                            h.len()
                        );
                    }
                }
            }
        }
        let header = header.context("no header line")?;
        if text.len() > u32::MAX as usize {
            bail!("file too large ({} bytes)", text.len());
        }
        Ok(Table {
            header,
            text,
            cells,
        })
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        if self.header.is_empty() {
            0
        } else {
            self.cells.len() / self.header.len()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text of cell (row, col).
    pub fn cell(&self, row: usize, col: usize) -> &str {
        let (a, b) = self.cells[row * self.header.len() + col];
        &self.text[a as usize..b as usize]
    }

    /// The rows as cell lists (convenient for small tables and tests).
    pub fn rows(&self) -> impl Iterator<Item = Vec<&str>> {
        (0..self.len()).map(move |r| (0..self.header.len()).map(|c| self.cell(r, c)).collect())
    }

    /// Index of a column.
    pub fn col(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no column `{name}` (columns: {})", self.header.join(", ")))
    }

    /// The cells of one column.
    pub fn column(&self, name: &str) -> Result<impl Iterator<Item = &str>> {
        let c = self.col(name)?;
        Ok((0..self.len()).map(move |r| self.cell(r, c)))
    }

    /// A numeric column (empty cells -> NaN).
    pub fn f64s(&self, name: &str) -> Result<Vec<f64>> {
        self.column(name)?
            .map(|s| parse_num(s).with_context(|| format!("column `{name}`")))
            .collect()
    }

    /// A text column.
    pub fn strs(&self, name: &str) -> Result<Vec<String>> {
        Ok(self.column(name)?.map(str::to_string).collect())
    }
}

/// Parse a CSV number cell (empty = NaN).
pub fn parse_num(s: &str) -> Result<f64> {
    if s.is_empty() {
        Ok(f64::NAN)
    } else {
        s.parse::<f64>()
            .with_context(|| format!("`{s}` is not a number"))
    }
}

/// True if `dir` holds a finished run (a run.json written by the final rename).
pub fn is_run_dir(dir: &Path) -> bool {
    dir.join("run.json").is_file()
}

/// Read run.json of a run directory.
pub fn read_run_json(dir: &Path) -> Result<Value> {
    let path = dir.join("run.json");
    if !path.is_file() {
        bail!("{} is not a bandwise run directory (no run.json); pass a directory written by `bandwise run`, `sweep` or `analyze`", dir.display());
    }
    // Checked against the typed schema, returned as written (nested entries the schema does
    // not name, e.g. a 2D target's dims or a classification block, are kept).
    let text = fs::read_to_string(&path)?;
    schema::RunMeta::parse(&path, &text)?;
    Ok(serde_json::from_str(&text)?)
}

/// Every run directory at or below `root` (the root itself if it is one), sorted.
pub fn find_runs(root: &Path) -> Result<Vec<PathBuf>> {
    if !root.exists() {
        bail!("{} does not exist", root.display());
    }
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if is_run_dir(&dir) {
            found.push(dir);
            continue;
        }
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                let p = e.path();
                let hidden = p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                if p.is_dir() && !hidden {
                    stack.push(p);
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_commits_atomically_and_refuses_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("run1");
        let s = Staging::new(&target, false).unwrap();
        s.write("a.csv", "x\n1\n").unwrap();
        s.write("run.json", "{}").unwrap();
        assert!(!target.exists(), "nothing visible before commit");
        s.commit().unwrap();
        assert_eq!(fs::read_to_string(target.join("a.csv")).unwrap(), "x\n1\n");
        let e = Staging::new(&target, false).err().unwrap().to_string();
        assert!(e.contains("already exists") && e.contains("--force"));
        // A dropped (failed) staging leaves no trace and the old run untouched.
        {
            let s = Staging::new(&target, true).unwrap();
            s.write("a.csv", "x\n2\n").unwrap();
        }
        assert_eq!(fs::read_to_string(target.join("a.csv")).unwrap(), "x\n1\n");
        let leftovers: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn csv_round_trip_with_comments_and_nan() {
        let mut csv = Csv::new(vec!["conventions here".into()], &["a", "b"]);
        csv.row(&[num(1.5), num(f64::NAN)]);
        csv.row(&[num(0.1), num(f64::INFINITY)]);
        let t = Table::parse(&csv.render()).unwrap();
        let a = t.f64s("a").unwrap();
        let b = t.f64s("b").unwrap();
        assert_eq!(a, [1.5, 0.1]);
        assert!(b[0].is_nan() && b[1] == f64::INFINITY);
        assert!(t
            .col("c")
            .unwrap_err()
            .to_string()
            .contains("no column `c`"));
        assert!(Table::parse("a,b\n1\n").is_err());
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("x.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
