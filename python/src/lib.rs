//! `bandwise._native`: the Rust side of the Python package `bandwise` (PyO3, abi3). Thin
//! bindings over the bandwise library: every number is computed by the same code as the
//! `bandwise` command. Arrays cross the boundary as little-endian float64 bytes (the Python
//! layer wraps them with `numpy.frombuffer`), so this crate needs no numpy headers.

use bandwise::analysis::render::{render, Format};
use bandwise::analysis::{build, Claim, ReportOptions};
use bandwise::app::import::{load_task_str, EpochInput, TrajectoryWriter};
use bandwise::app::protocol::{candidate_summary, ProtocolOptions, ProtocolSettings};
use bandwise::app::protocol_external::{
    plan_json, run_external_protocol, ExternalCandidate, ReferencesBy, EXTERNAL_OPTIMIZER,
};
use bandwise::app::sweep::Progress;
use bandwise::cli::spectrum::band_spectrum;
use bandwise::engine::external::ExternalTrainer;
use bandwise::experiment::fingerprint::fingerprint;
use bandwise::nn::features::InputMap;
use bandwise::optim::Registry;
use bandwise::plot::from_record::{Clip, Measure};
use bandwise::plot::{draw, Kind, PlotOptions};
use bandwise::record::load::RunData;
use bandwise::record::Table;
use bandwise::task::grid::GridData;
use bandwise::task::target::Target;
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn err(e: anyhow::Error) -> PyErr {
    PyValueError::new_err(format!("{e:#}"))
}

fn to_bytes<'py>(py: Python<'py>, v: &[f64]) -> Bound<'py, PyBytes> {
    let b: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    PyBytes::new(py, &b)
}

fn from_bytes(b: &[u8], what: &str) -> PyResult<Vec<f64>> {
    if !b.len().is_multiple_of(8) {
        return Err(PyValueError::new_err(format!(
            "{what}: {} bytes is not a whole number of float64 values",
            b.len()
        )));
    }
    Ok(b.chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

/// A config given as JSON text (a Python dict) as TOML text.
#[pyfunction]
fn toml_from_json(text: &str) -> PyResult<String> {
    let value: Value = serde_json::from_str(text).map_err(|e| err(e.into()))?;
    let toml_value = toml::Value::try_from(value).map_err(|e| {
        PyValueError::new_err(format!(
            "config dict: {e} (TOML has no null: drop keys set to None)"
        ))
    })?;
    toml::to_string(&toml_value).map_err(|e| err(e.into()))
}

fn grid_dict<'py>(
    py: Python<'py>,
    d: &Bound<'py, PyDict>,
    prefix: &str,
    grid: &GridData,
    map: &InputMap,
) -> PyResult<()> {
    d.set_item(format!("{prefix}t"), to_bytes(py, &grid.t))?;
    d.set_item(format!("{prefix}inputs"), to_bytes(py, &map.apply(&grid.t)))?;
    d.set_item(format!("{prefix}y"), to_bytes(py, &grid.y))?;
    d.set_item(format!("{prefix}y_clean"), to_bytes(py, &grid.y_clean))?;
    d.set_item(format!("{prefix}n"), grid.len())?;
    Ok(())
}

/// The task of a config (TOML text): grids, network inputs, targets, fingerprint and the
/// validated config as JSON text.
#[pyfunction]
#[pyo3(signature = (text, origin, name, seed=None))]
fn task<'py>(
    py: Python<'py>,
    text: &str,
    origin: &str,
    name: &str,
    seed: Option<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut exp = load_task_str(text, origin, name).map_err(err)?;
    if let Some(s) = seed {
        exp.seed = s;
    }
    // Classification tasks (target.classes, kind = "dataset"): class indices as targets.
    let (target, classes) =
        match bandwise::task::classify::build(&exp.target, exp.seed).map_err(err)? {
            Some((target, k)) => (target, Some(k)),
            None => (Target::build(&exp.target, exp.seed), None),
        };
    let dim = target.train.dim();
    let map = InputMap::new(&exp.model, dim, exp.seed);
    let d = PyDict::new(py);
    d.set_item("classes", classes)?;
    d.set_item("name", &exp.name)?;
    d.set_item("seed", exp.seed)?;
    d.set_item("fingerprint", fingerprint(&exp, &target))?;
    d.set_item("dim", dim)?;
    d.set_item("input_width", map.width())?;
    d.set_item("dims", exp.target.waves2d.as_ref().map(|w| w.dims.to_vec()))?;
    d.set_item(
        "frequencies",
        target.components().iter().map(|c| c.k).collect::<Vec<_>>(),
    )?;
    grid_dict(py, &d, "train_", &target.train, &map)?;
    grid_dict(py, &d, "test_", &target.test, &map)?;
    let config = serde_json::to_string(&exp).map_err(|e| err(e.into()))?;
    d.set_item("config_json", config)?;
    Ok(d)
}

/// Incremental writer of a run directory (see `bandwise.Recorder`).
#[pyclass(unsendable)]
struct Recorder {
    writer: Option<TrajectoryWriter>,
    source: Value,
    hyper: BTreeMap<String, Vec<f64>>,
    rows: usize,
}

#[pymethods]
impl Recorder {
    #[new]
    #[pyo3(signature = (text, origin, name, out_dir, overwrite, has_test, source, seed=None, run_name=None, optimizer_json=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        text: &str,
        origin: &str,
        name: &str,
        out_dir: PathBuf,
        overwrite: bool,
        has_test: bool,
        source: &str,
        seed: Option<u64>,
        run_name: Option<String>,
        optimizer_json: Option<&str>,
    ) -> PyResult<Self> {
        let mut exp = load_task_str(text, origin, name).map_err(err)?;
        if let Some(s) = seed {
            exp.seed = s;
        }
        if let Some(n) = run_name {
            exp.name = n;
        }
        let writer = TrajectoryWriter::new(&exp, &out_dir, overwrite, has_test).map_err(err)?;
        let mut source = json!({
            "kind": "imported",
            "by": "bandwise.Recorder (Python)",
            "description": source,
        });
        if let Some(o) = optimizer_json {
            source["optimizer"] = serde_json::from_str(o).map_err(|e| err(e.into()))?;
        }
        Ok(Recorder {
            writer: Some(writer),
            source,
            hyper: BTreeMap::new(),
            rows: 0,
        })
    }

    /// The task fingerprint of the run.
    #[getter]
    fn fingerprint(&self) -> PyResult<String> {
        Ok(self.writer()?.fingerprint.clone())
    }

    /// Record one epoch; returns the training loss recorded (given or computed).
    #[pyo3(signature = (epoch, train_pred, test_pred=None, train_loss=None, test_loss=None, lr=None, p=None, wall_s=None, step=None, hyper=None))]
    #[allow(clippy::too_many_arguments)]
    fn log(
        &mut self,
        epoch: u64,
        train_pred: &[u8],
        test_pred: Option<&[u8]>,
        train_loss: Option<f64>,
        test_loss: Option<f64>,
        lr: Option<f64>,
        p: Option<f64>,
        wall_s: Option<f64>,
        step: Option<u64>,
        hyper: Option<BTreeMap<String, f64>>,
    ) -> PyResult<f64> {
        let train = from_bytes(train_pred, "predictions")?;
        let test = test_pred
            .map(|t| from_bytes(t, "test predictions"))
            .transpose()?;
        let nan = f64::NAN;
        let writer = self.writer.as_mut().ok_or_else(closed)?;
        // Without a given loss the writer computes it: MSE, or the softmax cross-entropy of
        // a classification task's logits.
        let train_loss = writer
            .push(&EpochInput {
                epoch,
                step,
                train_pred: &train,
                test_pred: test.as_deref(),
                train_loss,
                test_loss,
                lr: lr.unwrap_or(nan),
                p: p.unwrap_or(nan),
                wall_s: wall_s.unwrap_or(nan),
            })
            .map_err(err)?;
        for (k, v) in hyper.unwrap_or_default() {
            let col = self.hyper.entry(k).or_insert_with(|| vec![nan; self.rows]);
            col.push(v);
        }
        self.rows += 1;
        for col in self.hyper.values_mut() {
            col.resize(self.rows, nan);
        }
        Ok(train_loss)
    }

    /// Write the run directory; returns its path, epochs, final train loss and notes.
    fn close<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let writer = self.writer.take().ok_or_else(closed)?;
        let mut source = self.source.clone();
        source["losses"] = json!("computed from the predictions unless given to log()");
        if !self.hyper.is_empty() {
            source["hyperparameters"] = json!(self.hyper);
        }
        let s = writer.finish(source).map_err(err)?;
        let d = PyDict::new(py);
        d.set_item("dir", s.dir.display().to_string())?;
        d.set_item("epochs", s.epochs)?;
        d.set_item("final_train_loss", s.final_train_loss)?;
        d.set_item("notes", s.notes)?;
        Ok(d)
    }

    /// Record that training diverged at `epoch` (the run gets status "diverged").
    fn mark_diverged(&mut self, epoch: u64, reason: &str) -> PyResult<()> {
        self.writer
            .as_mut()
            .ok_or_else(closed)?
            .mark_diverged(epoch, reason);
        Ok(())
    }

    /// True once `close` has run.
    #[getter]
    fn closed(&self) -> bool {
        self.writer.is_none()
    }
}

impl Recorder {
    fn writer(&self) -> PyResult<&TrajectoryWriter> {
        self.writer.as_ref().ok_or_else(closed)
    }
}

fn closed() -> PyErr {
    PyValueError::new_err("the recorder is closed (close() wrote the run directory)")
}

/// Every CSV of a run directory as {file: {"header": [...], "columns": {name: bytes | [str]}}},
/// plus run.json as text. Numeric columns are float64 bytes (empty cell = NaN).
#[pyfunction]
fn load_run<'py>(py: Python<'py>, dir: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let run_json = bandwise::record::read_run_json(&dir).map_err(err)?;
    let out = PyDict::new(py);
    out.set_item("run_json", run_json.to_string())?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| err(anyhow::anyhow!("cannot read {}: {e}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|x| x.to_str()) == Some("csv"))
        .collect();
    files.sort();
    let tables = PyDict::new(py);
    for f in files {
        let table = Table::read(&f).map_err(err)?;
        let cols = PyDict::new(py);
        for h in &table.header {
            match table.f64s(h) {
                Ok(v) => cols.set_item(h, to_bytes(py, &v))?,
                Err(_) => cols.set_item(h, table.strs(h).map_err(err)?)?,
            }
        }
        let t = PyDict::new(py);
        t.set_item("header", table.header.clone())?;
        t.set_item("columns", cols)?;
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        tables.set_item(stem, t)?;
    }
    out.set_item("tables", tables)?;
    Ok(out)
}

/// The report of `dirs` as the JSON text of `bandwise report --format json`.
#[pyfunction]
#[pyo3(signature = (dirs, claims, grid="train", window="full"))]
fn report(dirs: Vec<PathBuf>, claims: Vec<String>, grid: &str, window: &str) -> PyResult<String> {
    let claims = claims
        .iter()
        .map(|c| Claim::parse(c))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(err)?;
    let window_fraction = match window {
        "full" => 1.0,
        "half" => 0.5,
        other => {
            return Err(PyValueError::new_err(format!(
                "window `{other}`: use \"full\" or \"half\""
            )))
        }
    };
    // `..default()` keeps this building when ReportOptions gains fields.
    #[allow(clippy::needless_update)]
    let opts = ReportOptions {
        grid: grid.to_string(),
        window_fraction,
        ..ReportOptions::default()
    };
    let r = build(&dirs, &opts, &claims).map_err(err)?;
    Ok(bandwise::analysis::render::json(&r))
}

/// Band measures of a 1D signal (and optional target) for a `--layout` value.
#[pyfunction]
#[pyo3(signature = (signal, layout, target=None))]
fn spectrum<'py>(
    py: Python<'py>,
    signal: &[u8],
    layout: &str,
    target: Option<&[u8]>,
) -> PyResult<Bound<'py, PyDict>> {
    let x = from_bytes(signal, "signal")?;
    let y = match target {
        Some(t) => from_bytes(t, "target")?,
        None => vec![0.0; x.len()],
    };
    if x.len() < 4 {
        return Err(PyValueError::new_err(format!(
            "signal: {} samples; at least 4 are needed",
            x.len()
        )));
    }
    let (bands, s) = band_spectrum(&x, &y, layout).map_err(err)?;
    let d = PyDict::new(py);
    d.set_item(
        "label",
        bands.iter().map(|b| b.label.clone()).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "f_lo",
        to_bytes(py, &bands.iter().map(|b| b.f_lo).collect::<Vec<_>>()),
    )?;
    d.set_item(
        "f_hi",
        to_bytes(py, &bands.iter().map(|b| b.f_hi).collect::<Vec<_>>()),
    )?;
    d.set_item("energy", to_bytes(py, &s.residual_energy))?;
    d.set_item("share", to_bytes(py, &s.share))?;
    d.set_item("target_energy", to_bytes(py, &s.target_energy))?;
    d.set_item("rel_error", to_bytes(py, &s.rel_error))?;
    d.set_item("mse", s.mse)?;
    Ok(d)
}

/// The value of `all` named `s` (as on the command line), or an error listing the names.
fn parse_named<T: Copy>(
    s: &str,
    what: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> PyResult<T> {
    all.iter()
        .copied()
        .find(|&v| name(v).eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|&v| name(v)).collect();
            PyValueError::new_err(format!("{what} `{s}`: use one of {}", names.join(", ")))
        })
}

/// One figure of `dirs` as PNG bytes, drawn by the code of `bandwise plot`.
#[pyfunction]
#[pyo3(signature = (dirs, kind, grid="train", measure="rel_error", clip=None))]
fn plot<'py>(
    py: Python<'py>,
    dirs: Vec<PathBuf>,
    kind: &str,
    grid: &str,
    measure: &str,
    clip: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let kind = parse_named(kind, "kind", &Kind::ALL, Kind::name)?;
    if kind == Kind::All {
        return Err(PyValueError::new_err(
            "kind `all` is a set of figures: choose one kind (heatmap, curves, panel, loss, snapshots; accuracy, accuracy-vs-loss, agreement, filtering, class-maps for classification runs)",
        ));
    }
    let opts = PlotOptions {
        grid: grid.to_string(),
        measure: parse_named(measure, "measure", &Measure::ALL, Measure::column)?,
        clip: clip
            .map(|c| parse_named(c, "clip", &Clip::ALL, Clip::name))
            .transpose()?,
        ..PlotOptions::default()
    };
    let runs = dirs
        .iter()
        .map(|d| RunData::load(d))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(err)?;
    // The figure code renders to a path: draw into a private file and hand back its bytes.
    let tmp = std::env::temp_dir().join(format!(
        "bandwise-plot-{}-{:?}.png",
        std::process::id(),
        std::thread::current().id()
    ));
    let drawn = draw(kind, &runs, &tmp, &opts);
    let bytes = drawn.and_then(|_| Ok(std::fs::read(&tmp)?));
    let _ = std::fs::remove_file(&tmp);
    Ok(PyBytes::new(py, &bytes.map_err(err)?))
}

fn settings(quick: bool) -> ProtocolSettings {
    if quick {
        ProtocolSettings::quick()
    } else {
        ProtocolSettings::standard()
    }
}

/// The candidate of `bandwise.torch.protocol`: an import path, `--set` texts and keyword
/// arguments given as JSON (each key once).
fn candidate(
    class_path: &str,
    sets: &[String],
    kwargs_json: &str,
) -> anyhow::Result<ExternalCandidate> {
    let from_sets = ExternalCandidate::from_sets(class_path, sets)?;
    let mut kwargs: serde_json::Map<String, Value> = serde_json::from_str(kwargs_json)?;
    for (k, v) in from_sets.kwargs {
        if kwargs.insert(k.clone(), v).is_some() {
            anyhow::bail!(
                "optimizer argument `{k}` is given both as a keyword argument and in sets"
            );
        }
    }
    ExternalCandidate::new(class_path, kwargs)
}

/// The protocol's plan (settings, references, task) as JSON text; with a candidate, also the
/// label of its directory.
#[pyfunction]
#[pyo3(signature = (quick=false, class_path=None, sets=vec![], kwargs_json="{}"))]
fn protocol_plan(
    quick: bool,
    class_path: Option<&str>,
    sets: Vec<String>,
    kwargs_json: &str,
) -> PyResult<String> {
    let cand = class_path
        .map(|c| candidate(c, &sets, kwargs_json))
        .transpose()
        .map_err(err)?;
    Ok(plan_json(&settings(quick), cand.as_ref())
        .map_err(err)?
        .to_string())
}

/// Run the protocol with the candidate (and, with references = "torch", the references)
/// trained by `trainer(run: dict)`, which must write the run directory `run["dir"]`.
#[pyfunction]
#[pyo3(signature = (class_path, sets, kwargs_json, out, trainer, quick=false, references="torch", jobs=1, progress=true, format="term"))]
#[allow(clippy::too_many_arguments)]
fn protocol<'py>(
    py: Python<'py>,
    class_path: &str,
    sets: Vec<String>,
    kwargs_json: &str,
    out: PathBuf,
    trainer: Py<PyAny>,
    quick: bool,
    references: &str,
    jobs: usize,
    progress: bool,
    format: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let cand = candidate(class_path, &sets, kwargs_json).map_err(err)?;
    let references_by: ReferencesBy = references.parse().map_err(err)?;
    let format = Format::parse(format).ok_or_else(|| {
        PyValueError::new_err(format!("format `{format}`: use term, md, json or csv"))
    })?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let builtin = Registry::builtin();
    let t = ExternalTrainer::new("bandwise.torch", 1, move |run| {
        if flag.load(Ordering::SeqCst) {
            anyhow::bail!("interrupted");
        }
        let exp = run.experiment;
        let optimizer = if exp.optimizer.name == EXTERNAL_OPTIMIZER {
            serde_json::to_value(&exp.optimizer)?
        } else {
            builtin.resolve(&exp.optimizer)?.to_json()
        };
        let config = serde_json::to_string(exp)?;
        Python::attach(|py| {
            let call = || -> PyResult<()> {
                let d = PyDict::new(py);
                d.set_item("config_json", &config)?;
                d.set_item("optimizer_json", optimizer.to_string())?;
                d.set_item("dir", run.dir.display().to_string())?;
                d.set_item("overwrite", run.overwrite)?;
                trainer.call1(py, (d,))?;
                Ok(())
            };
            call().map_err(|e| {
                if e.is_instance_of::<PyKeyboardInterrupt>(py) {
                    flag.store(true, Ordering::SeqCst);
                }
                let tb = e
                    .traceback(py)
                    .and_then(|tb| tb.format().ok())
                    .unwrap_or_default();
                anyhow::anyhow!("{e}\n{}", tb.trim_end())
            })
        })
    });
    let opts = ProtocolOptions {
        settings: settings(quick),
        jobs: jobs.max(1),
        progress: if progress {
            Progress::lines()
        } else {
            Progress::OFF
        },
    };
    let result = py.detach(|| {
        run_external_protocol(&Registry::builtin(), &cand, references_by, &t, &out, &opts)
    });
    if interrupted.load(Ordering::SeqCst) {
        return Err(PyKeyboardInterrupt::new_err(
            "bandwise.torch.protocol interrupted (finished runs are kept; rerun to resume)",
        ));
    }
    let (report, entries) = result.map_err(err)?;
    let d = PyDict::new(py);
    d.set_item("out", out.display().to_string())?;
    d.set_item("report_json", render(&report, Format::Json))?;
    d.set_item("rendered", render(&report, format))?;
    d.set_item("summary", candidate_summary(&report, &entries, &out))?;
    d.set_item(
        "entries",
        entries
            .iter()
            .map(|e| (e.label.clone(), e.candidate, e.reference))
            .collect::<Vec<_>>(),
    )?;
    Ok(d)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(toml_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(task, m)?)?;
    m.add_function(wrap_pyfunction!(load_run, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(spectrum, m)?)?;
    m.add_function(wrap_pyfunction!(plot, m)?)?;
    m.add_function(wrap_pyfunction!(protocol_plan, m)?)?;
    m.add_function(wrap_pyfunction!(protocol, m)?)?;
    m.add_class::<Recorder>()?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
