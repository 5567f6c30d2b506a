//! Issue 12, "silent nonsense" and "clear errors": every class of bad input is refused before
//! any work, with an error that names the file and the field (or line). One test per class,
//! through the real command line, plus a property test (tests/fuzz_inputs.rs) over the readers.

use std::path::Path;
use std::process::Command;

fn bandwise(args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bandwise"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const BASE: &str = "[target]\nn = 64\nfrequencies = [1, 4]\n[optimizer]\nname = \"adam\"\nlr = 1e-3\n[train]\nepochs = 2\n";

/// Run `bandwise run` on `config` and return its error, asserting that it failed.
fn run_error(dir: &Path, config: &str) -> String {
    std::fs::write(dir.join("c.toml"), config).unwrap();
    let (ok, err) = bandwise(&["run", "c.toml", "--out", "out", "--quiet"], dir);
    assert!(!ok, "should fail: {config}");
    assert!(
        !dir.join("out").exists(),
        "no run directory for a refused config"
    );
    assert!(err.contains("c.toml"), "the error names the file: {err}");
    err
}

#[test]
fn optimizer_hyperparameters_are_range_checked() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, field, range) in [
        ("lr = -1e-3", "optimizer.lr", ">= 0"),
        ("lr = 1e-3\nbeta2 = 1", "optimizer.beta2", "[0, 1)"),
        ("lr = 1e-3\neps = -1", "optimizer.eps", ">= 0"),
    ] {
        let config = BASE.replace("lr = 1e-3", bad);
        let e = run_error(dir.path(), &config);
        assert!(e.contains(field) && e.contains(range), "{e}");
    }
    let sgd = BASE.replace("name = \"adam\"", "name = \"sgd\"\nnesterov = true");
    let e = run_error(dir.path(), &sgd);
    assert!(
        e.contains("optimizer.nesterov") && e.contains("momentum"),
        "{e}"
    );
    // `bandwise optimizers` prints the ranges, numbers in their shorter form.
    let out = Command::new(env!("CARGO_BIN_EXE_bandwise"))
        .arg("optimizers")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("eps = 1e-8, >= 0") && text.contains("beta2 = 0.999, in [0, 1)"),
        "{text}"
    );
}

#[test]
fn target_nonsense_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let e = run_error(dir.path(), &BASE.replace("[1, 4]", "[0, 4]"));
    assert!(e.contains("target.frequencies[0] = 0"), "{e}");
    let e = run_error(
        dir.path(),
        &BASE.replace("[1, 4]", "[1, 4]\nphases = [0.0, nan]"),
    );
    assert!(e.contains("target.phases[1]"), "{e}");
    let two_d = "[target]\nkind = \"waves2d\"\nn = [16, 16]\nwaves = [[1, 0], [3, -2, 99]]\n[optimizer]\nname = \"adam\"\nlr = 1e-3\n[train]\nepochs = 2\n";
    let e = run_error(dir.path(), two_d);
    assert!(
        e.contains("target.waves[1]") && e.contains("3 entries"),
        "{e}"
    );
    let e = run_error(
        dir.path(),
        &two_d.replace("[3, -2, 99]", "[-9223372036854775808, 1]"),
    );
    assert!(
        e.contains("target.waves[1]") && e.contains("aliases"),
        "{e}"
    );
    let e = run_error(dir.path(), &format!("{BASE}[record]\nsnapshots = [0, 5]\n"));
    assert!(e.contains("record.snapshots[1] = 5"), "{e}");
    let e = run_error(
        dir.path(),
        &format!("{BASE}[spectral]\nlayout = {{ kind = \"octave\", bands = 8 }}\n"),
    );
    assert!(e.contains("bands"), "{e}");
    let e = run_error(
        dir.path(),
        &BASE.replace("epochs = 2", "epochs = 2\nbatch_sise = 4"),
    );
    assert!(e.contains("batch_size"), "{e}");
}

#[test]
fn duplicate_sweep_values_and_bad_seeds_are_refused_naming_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let base = BASE
        .replace("[target]", "[base.target]")
        .replace("[optimizer]", "[base.optimizer]")
        .replace("[train]", "[base.train]");
    for (axis, shown) in [
        (
            "values = [1e-3, 0.001]",
            "values[0] = 0.001 and values[1] = 0.001",
        ),
        ("values = [0.5, 0.5]", "values[0] = 0.5 and values[1] = 0.5"),
    ] {
        let spec = format!("seeds = 2\n[[axis]]\npath = \"optimizer.beta1\"\n{axis}\n{base}");
        std::fs::write(dir.path().join("s.toml"), spec).unwrap();
        let (ok, e) = bandwise(&["sweep", "s.toml", "--out", "o"], dir.path());
        assert!(
            !ok && e.contains("s.toml") && e.contains("optimizer.beta1") && e.contains(shown),
            "{e}"
        );
    }
    std::fs::write(dir.path().join("s.toml"), format!("seeds = -2\n{base}")).unwrap();
    let (ok, e) = bandwise(&["sweep", "s.toml", "--out", "o"], dir.path());
    assert!(
        !ok && e.contains("s.toml") && e.contains("seeds takes a count"),
        "{e}"
    );
    // An invalid value found while expanding names the spec too.
    let spec = format!("[[axis]]\npath = \"optimizer.beta2\"\nvalues = [0.9, 1.0]\n{base}");
    std::fs::write(dir.path().join("s.toml"), spec).unwrap();
    let (ok, e) = bandwise(&["sweep", "s.toml", "--out", "o"], dir.path());
    assert!(
        !ok && e.contains("s.toml") && e.contains("optimizer.beta2"),
        "{e}"
    );
}

#[test]
fn spectrum_refuses_bad_signals_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("nan.csv"), "1\n2\nnan\n4\n5\n").unwrap();
    let (ok, e) = bandwise(&["spectrum", "nan.csv"], d);
    assert!(
        !ok && e.contains("nan.csv") && e.contains("sample 2"),
        "{e}"
    );
    let rows: String = (0..8)
        .map(|i| format!("{},{}\n", i as f64 / 8.0, (i % 3) as f64))
        .collect();
    std::fs::write(d.join("two.csv"), format!("t,y\n{rows}")).unwrap();
    let (ok, e) = bandwise(&["spectrum", "two.csv"], d);
    assert!(
        !ok && e.contains("two.csv") && e.contains("`t`, `y`") && e.contains("--column"),
        "{e}"
    );
    let (ok, _) = bandwise(&["spectrum", "two.csv", "--column", "y"], d);
    assert!(ok);
    let (ok, e) = bandwise(
        &[
            "spectrum", "two.csv", "--column", "1", "--layout", "peaks:-3",
        ],
        d,
    );
    assert!(!ok && e.contains("--layout") && e.contains("-3"), "{e}");
    let (ok, e) = bandwise(&["spectrum", "missing.npy"], d);
    assert!(
        !ok && e.contains("missing.npy")
            && e.to_lowercase().contains("no such file")
            && !e.contains("numpy.save"),
        "{e}"
    );
    ndarray_npy::write_npy(d.join("m.npy"), &ndarray::Array2::<f64>::zeros((2, 8))).unwrap();
    let (ok, e) = bandwise(&["spectrum", "m.npy"], d);
    assert!(
        !ok && e.contains("m.npy") && e.contains("2D array") && !e.contains("Some("),
        "{e}"
    );
}

#[test]
fn corrupted_records_are_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("c.toml"), BASE.replace("epochs = 2", "epochs = 4")).unwrap();
    let (ok, e) = bandwise(&["run", "c.toml", "--out", "r", "--quiet"], d);
    assert!(ok, "{e}");
    let path = d.join("r/epochs.csv");
    let good = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let data = lines.iter().position(|l| l.starts_with("0,")).unwrap();
    // Swap two epoch rows: epoch 1 now follows epoch 2.
    let mut swapped = lines.clone();
    swapped.swap(data + 1, data + 2);
    std::fs::write(&path, swapped.join("\n") + "\n").unwrap();
    let (ok, e) = bandwise(&["report", "r"], d);
    assert!(
        !ok && e.contains("epochs.csv line") && e.contains("epoch 1 comes after epoch 2"),
        "{e}"
    );
    // An absurd epoch.
    let absurd = good.replacen(
        &format!("\n{}", lines[data + 4].split(',').next().unwrap()),
        "\n18446744073709551615",
        1,
    );
    std::fs::write(&path, absurd).unwrap();
    let (ok, e) = bandwise(&["report", "r"], d);
    assert!(
        !ok && e.contains("epochs.csv line") && e.contains("beyond the run's budget"),
        "{e}"
    );
}

#[test]
fn one_failing_figure_does_not_abort_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("c.toml"), BASE).unwrap();
    let (ok, e) = bandwise(&["run", "c.toml", "--out", "r", "--quiet"], d);
    assert!(ok, "{e}");
    // A directory where heatmap.png should go makes that one figure fail.
    std::fs::create_dir_all(d.join("r/figures/heatmap.png")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bandwise"))
        .args(["plot", "r"])
        .current_dir(d)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "exit non-zero after a failed figure");
    assert!(
        stderr.contains("heatmap of run r") && stderr.contains("heatmap.png"),
        "the failure names the run and the file: {stderr}"
    );
    assert!(
        stdout.contains("curves.png") && stdout.contains("loss.png"),
        "the other figures are still drawn: {stdout}"
    );
}
