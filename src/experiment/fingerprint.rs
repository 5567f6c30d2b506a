//! Task fingerprints: a short stable hash that names the exact training data of a task, so a
//! trajectory made on one task cannot be analysed as if it were made on another.
//!
//! Definition (format `bw1-` + 16 lowercase hex digits): FNV-1a 64-bit over the UTF-8 bytes of
//! the compact JSON of `{"fourier_features": F, "input_range": [lo, hi], "seed": s, "target": T,
//! "test_n": n1, "train_n": n0}`, keys sorted at every level, where `T` is the `target` table of the config as
//! bandwise serialises it (kind, frequencies, amplitudes, phases, grid sizes, noise, 2D waves,
//! ...), `s` the seed that draws random phases and noise, `n0`/`n1` the training and test grid
//! sizes, and `[lo, hi]` and `F` model.input_range and model.fourier_features (null if none):
//! the map from grid coordinates to network inputs.
//! Two configs that produce the same target values on the same grids from the same inputs have
//! the same fingerprint; any change to the target, the seed or the grid changes it.

use crate::base::hash::fnv1a;
use crate::experiment::config::Experiment;
use crate::task::target::Target;
use serde_json::json;

/// The fingerprint of the task of `exp` (whose built target is `target`).
pub fn fingerprint(exp: &Experiment, target: &Target) -> String {
    let value = json!({
        "fourier_features": exp.model.fourier_features,
        "input_range": exp.model.input_range,
        "seed": exp.seed,
        "target": exp.target,
        "test_n": target.test.len(),
        "train_n": target.train.len(),
    });
    // serde_json's maps are ordered by key (no `preserve_order`), so this text is canonical.
    let text = serde_json::to_string(&value).expect("a config serialises to JSON");
    format!("bw1-{:016x}", fnv1a(text.as_bytes()))
}

/// Check that a trajectory's fingerprint (`found`, from `where_`) matches the task's.
pub fn check(expected: &str, found: &str, where_: &str) -> anyhow::Result<()> {
    if expected != found {
        anyhow::bail!(
            "fingerprint mismatch: {where_} was made on task {found} but the config (with its seed) gives task {expected}; \
             analyze with the config and --seed used by `bandwise target` (or bandwise.task) for these predictions"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_and_grid_change_the_fingerprint() {
        let text = "name = \"t\"\nseed = 1\n[target]\nfrequencies = [1, 5]\nn = 64\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[train]\nepochs = 10\n";
        let exp = Experiment::from_toml_str(text, "test").unwrap();
        let f = |e: &Experiment| fingerprint(e, &Target::build(&e.target, e.seed));
        let a = f(&exp);
        assert!(a.starts_with("bw1-") && a.len() == 20, "{a}");
        assert_eq!(a, f(&exp.clone()));
        let mut other = exp.clone();
        other.seed = 2;
        assert_ne!(a, f(&other));
        let mut finer = exp.clone();
        finer.target.n = 128;
        assert_ne!(a, f(&finer));
        let mut renamed = exp.clone();
        renamed.name = "other".into();
        assert_eq!(a, f(&renamed), "the run name is not part of the task");
        assert!(check(&a, &f(&other), "x.csv")
            .unwrap_err()
            .to_string()
            .contains(&a));
    }
}
