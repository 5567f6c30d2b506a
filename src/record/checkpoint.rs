//! Checkpoints: parameters and optimizer state at chosen epochs, for the kernel analysis.
//!
//! A checkpoint is a `--save-params` file (format `bandwise-params/1`, see docs/records.md)
//! with more keys, so any reader of params files reads a checkpoint's parameters unchanged:
//!
//! ```json
//! {
//!   "format": "bandwise-checkpoint/1",
//!   "extends": "bandwise-params/1",
//!   "layout": "...", "dtype_trained": "f32",
//!   "tensors": [{"name": "W0", "shape": [1, 64], "values": [...]}, ...],
//!   "epoch": 200,
//!   "optimizer": {
//!     "name": "padam", "step": 200,
//!     "hyper": {"lr": 0.001, "p": 0.25, "beta1": 0.9, ...},
//!     "settings": {"normalize": "none"},
//!     "state": {"m": [{"name": "W0", "shape": [1, 64], "values": [...]}, ...], "v": [...]}
//!   }
//! }
//! ```
//!
//! `epoch` is the last completed epoch (0 = before training), `optimizer.step` the number of
//! updates done, `hyper` every float hyperparameter at that step (schedules evaluated), and
//! each state vector is stored per tensor exactly like the parameters. Values are the trained
//! scalars widened to f64 (exact for f32), written and read back bit-exact (serde_json's
//! `float_roundtrip`). Files live in `RUN_DIR/checkpoints/epoch_NNNNNN.json`.
//! [`read_checkpoint`] also accepts a plain params file (then `epoch` and `optimizer` are
//! absent).

use crate::nn::model::MlpShape;
use crate::optim::OptimizerSnapshot;
use crate::record::commit::write_atomic;
use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Format tag of a params file (`--save-params`).
pub const PARAMS_FORMAT: &str = "bandwise-params/1";
/// Format tag of a checkpoint file.
pub const CHECKPOINT_FORMAT: &str = "bandwise-checkpoint/1";
/// The `layout` sentence of params and checkpoint files.
pub const PARAMS_LAYOUT: &str = "one entry per tensor in order W0, b0, W1, b1, ...; W_l has shape [fan_in, fan_out] (row-major, rows = inputs), so y = x W + b; PyTorch's Linear.weight is its transpose";

/// One flat buffer (parameters or a state vector) as the per-tensor list of a params file.
pub fn tensors_json(shape: &MlpShape, values: &[f64]) -> Value {
    Value::Array(
        shape
            .tensors
            .iter()
            .map(|t| json!({"name": t.name, "shape": [t.rows, t.cols], "values": values[t.range.clone()]}))
            .collect(),
    )
}

/// A checkpoint as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Last completed epoch; None for a plain params file.
    pub epoch: Option<u64>,
    /// "f32" or "f64".
    pub dtype_trained: String,
    /// Tensor names and shapes, in buffer order.
    pub tensors: Vec<(String, usize, usize)>,
    /// The flat parameter buffer (f64).
    pub params: Vec<f64>,
    /// None for a plain params file.
    pub optimizer: Option<OptimizerSnapshot>,
}

impl Checkpoint {
    /// The widths d_0, ..., d_L implied by the weight tensors (W_l is d_l x d_{l+1}).
    pub fn widths(&self) -> Vec<usize> {
        let weights: Vec<&(String, usize, usize)> = self.tensors.iter().step_by(2).collect();
        let mut w: Vec<usize> = weights.iter().map(|t| t.1).collect();
        if let Some(last) = weights.last() {
            w.push(last.2);
        }
        w
    }
}

/// The checkpoint file of `epoch` relative to a run directory.
pub fn checkpoint_file(epoch: u64) -> String {
    format!("checkpoints/epoch_{epoch:06}.json")
}

/// Path of the checkpoint of `epoch` in a run directory.
pub fn checkpoint_path(run_dir: &Path, epoch: u64) -> PathBuf {
    run_dir.join(checkpoint_file(epoch))
}

/// The checkpoints of a run directory, `(epoch, path)` by increasing epoch (empty when the
/// run has none).
pub fn list_checkpoints(run_dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let dir = run_dir.join("checkpoints");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(e) = name
            .strip_prefix("epoch_")
            .and_then(|r| r.strip_suffix(".json"))
            .and_then(|d| d.parse::<u64>().ok())
        {
            out.push((e, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The JSON of a checkpoint (see the module docs).
pub fn checkpoint_json(
    shape: &MlpShape,
    dtype_trained: &str,
    epoch: u64,
    params: &[f64],
    optimizer: &OptimizerSnapshot,
) -> Value {
    let state: Map<String, Value> = optimizer
        .state
        .iter()
        .map(|(k, v)| (k.clone(), tensors_json(shape, v)))
        .collect();
    json!({
        "format": CHECKPOINT_FORMAT,
        "extends": PARAMS_FORMAT,
        "layout": PARAMS_LAYOUT,
        "dtype_trained": dtype_trained,
        "tensors": tensors_json(shape, params),
        "epoch": epoch,
        "optimizer": {
            "name": optimizer.name,
            "step": optimizer.step,
            "hyper": optimizer.hyper,
            "settings": optimizer.settings,
            "state": state,
        },
    })
}

/// Write the checkpoint of `epoch` into `run_dir/checkpoints/` (atomically); returns its path.
pub fn write_checkpoint(
    run_dir: &Path,
    shape: &MlpShape,
    dtype_trained: &str,
    epoch: u64,
    params: &[f64],
    optimizer: &OptimizerSnapshot,
) -> Result<PathBuf> {
    let path = checkpoint_path(run_dir, epoch);
    let dir = path.parent().expect("checkpoint path has a parent");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let value = checkpoint_json(shape, dtype_trained, epoch, params, optimizer);
    write_atomic(&path, serde_json::to_string(&value)?.as_bytes())?;
    Ok(path)
}

/// The flat buffer of a per-tensor list, checked against `tensors` (from the `tensors` key).
fn flat(
    file: &Path,
    field: &str,
    list: &Value,
    tensors: &[(String, usize, usize)],
) -> Result<Vec<f64>> {
    let Some(items) = list.as_array() else {
        bail!("{}: `{field}` must be a list of tensors", file.display());
    };
    if items.len() != tensors.len() {
        bail!(
            "{}: `{field}` has {} tensors, `tensors` has {}; the file is inconsistent (rewrite it)",
            file.display(),
            items.len(),
            tensors.len()
        );
    }
    let mut out = Vec::new();
    for (i, (item, (name, rows, cols))) in items.iter().zip(tensors).enumerate() {
        let values = item["values"]
            .as_array()
            .with_context(|| format!("{}: `{field}[{i}].values` is missing", file.display()))?;
        if values.len() != rows * cols {
            bail!(
                "{}: `{field}[{i}]` ({name}) has {} values, its shape [{rows}, {cols}] needs {}",
                file.display(),
                values.len(),
                rows * cols
            );
        }
        for (j, v) in values.iter().enumerate() {
            out.push(v.as_f64().with_context(|| {
                format!(
                    "{}: `{field}[{i}].values[{j}]` is not a number",
                    file.display()
                )
            })?);
        }
    }
    Ok(out)
}

/// Read a checkpoint (or a plain params file) written by bandwise.
pub fn read_checkpoint(path: &Path) -> Result<Checkpoint> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let format = v["format"].as_str().unwrap_or("");
    if format != CHECKPOINT_FORMAT && format != PARAMS_FORMAT {
        bail!(
            "{}: `format` is {:?}; expected \"{CHECKPOINT_FORMAT}\" or \"{PARAMS_FORMAT}\" (a file written by `bandwise run --save-params` or a checkpoint)",
            path.display(),
            v["format"]
        );
    }
    let items = v["tensors"]
        .as_array()
        .with_context(|| format!("{}: `tensors` is missing", path.display()))?;
    let mut tensors = Vec::new();
    for (i, t) in items.iter().enumerate() {
        let name = t["name"].as_str().unwrap_or("").to_string();
        let shape: Vec<usize> = t["shape"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(|x| x.as_u64())
                    .map(|x| x as usize)
                    .collect()
            })
            .unwrap_or_default();
        if shape.len() != 2 {
            bail!(
                "{}: `tensors[{i}].shape` must be [rows, cols]",
                path.display()
            );
        }
        tensors.push((name, shape[0], shape[1]));
    }
    let params = flat(path, "tensors", &v["tensors"], &tensors)?;
    let optimizer = if format == CHECKPOINT_FORMAT {
        let o = &v["optimizer"];
        let name = o["name"]
            .as_str()
            .with_context(|| format!("{}: `optimizer.name` is missing", path.display()))?;
        let step = o["step"]
            .as_u64()
            .with_context(|| format!("{}: `optimizer.step` is missing", path.display()))?;
        let hyper: BTreeMap<String, f64> = serde_json::from_value(o["hyper"].clone())
            .with_context(|| {
                format!(
                    "{}: `optimizer.hyper` must map names to numbers",
                    path.display()
                )
            })?;
        let settings: BTreeMap<String, String> = serde_json::from_value(o["settings"].clone())
            .with_context(|| {
                format!(
                    "{}: `optimizer.settings` must map names to strings",
                    path.display()
                )
            })?;
        let mut state = BTreeMap::new();
        if let Some(map) = o["state"].as_object() {
            for (k, list) in map {
                state.insert(
                    k.clone(),
                    flat(path, &format!("optimizer.state.{k}"), list, &tensors)?,
                );
            }
        } else {
            bail!("{}: `optimizer.state` is missing", path.display());
        }
        Some(OptimizerSnapshot {
            name: name.to_string(),
            step,
            hyper,
            settings,
            state,
        })
    } else {
        None
    };
    Ok(Checkpoint {
        epoch: v["epoch"].as_u64(),
        dtype_trained: v["dtype_trained"].as_str().unwrap_or("f64").to_string(),
        tensors,
        params,
        optimizer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::model::{Activation, Init};
    use crate::optim::{OptimizerDef, PAdam, Settings};
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    #[test]
    fn round_trip_keeps_every_bit_and_reads_params_files() {
        let shape = MlpShape::new(1, &[5, 4], 1, Activation::Tanh);
        let mut rng = Pcg64::seed_from_u64(2);
        let p32: Vec<f32> = shape.init_params(Init::Torch, &mut rng);
        let mut x = p32.clone();
        let s = Settings {
            flags: vec![],
            choices: vec![("normalize", "none".into())],
        };
        let mut opt = PAdam::<f64>::build::<f32>(&s, shape.n_params());
        let hp = crate::optim::testing::hyper(&[
            ("lr", 0.01),
            ("p", 0.25),
            ("beta1", 0.9),
            ("beta2", 0.999),
            ("eps", 1e-8),
            ("weight_decay", 0.0),
            ("v_floor", 1e-30),
        ]);
        let g: Vec<f32> = (0..shape.n_params())
            .map(|i| (i as f32).sin() / 3.0)
            .collect();
        for t in 1..=3 {
            opt.update(t, &hp, &mut x, &g, &shape.ranges());
        }
        let snap = OptimizerSnapshot {
            name: "padam".into(),
            step: 3,
            hyper: hp
                .names()
                .iter()
                .zip(hp.values())
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            settings: [("normalize".to_string(), "none".to_string())].into(),
            state: opt
                .state()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|&x| x as f64).collect()))
                .collect(),
        };
        let params: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = write_checkpoint(dir.path(), &shape, "f32", 7, &params, &snap).unwrap();
        assert!(path.ends_with("checkpoints/epoch_000007.json"));
        let back = read_checkpoint(&path).unwrap();
        assert_eq!(back.epoch, Some(7));
        assert_eq!(back.params, params);
        assert_eq!(back.optimizer.as_ref(), Some(&snap));
        assert_eq!(back.widths(), vec![1, 5, 4, 1]);
        assert_eq!(back.dtype_trained, "f32");
        for (k, v) in &snap.state {
            let narrowed: Vec<f32> = back.optimizer.as_ref().unwrap().state[k]
                .iter()
                .map(|&x| x as f32)
                .collect();
            let orig: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            assert_eq!(narrowed, orig, "state {k} survives f32 -> f64 -> f32");
        }

        // A plain params file (what `--save-params` writes) reads as a checkpoint without
        // optimizer.
        let plain = dir.path().join("params_final.json");
        let v = json!({"format": PARAMS_FORMAT, "layout": PARAMS_LAYOUT, "dtype_trained": "f32",
            "tensors": tensors_json(&shape, &params)});
        std::fs::write(&plain, v.to_string()).unwrap();
        let back = read_checkpoint(&plain).unwrap();
        assert_eq!((back.epoch, back.optimizer), (None, None));
        assert_eq!(back.params, params);

        // Errors name the file and the field.
        let mut bad = checkpoint_json(&shape, "f32", 7, &params, &snap);
        bad["optimizer"]["state"]["m"][2]["values"] = json!([1.0]);
        std::fs::write(&plain, bad.to_string()).unwrap();
        let err = read_checkpoint(&plain).unwrap_err().to_string();
        assert!(
            err.contains("params_final.json") && err.contains("optimizer.state.m[2]"),
            "{err}"
        );
        std::fs::write(&plain, r#"{"format": "other"}"#).unwrap();
        let err = read_checkpoint(&plain).unwrap_err().to_string();
        assert!(err.contains("`format`"), "{err}");
    }
}
