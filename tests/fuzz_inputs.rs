//! Property test over the input readers (issue 12): for arbitrary or mutated inputs the config
//! parser, the NPY reader and the CSV readers never panic, and every error names the input.
//! 256 cases per property keep it to a few seconds in CI.

use bandwise::base::signal_io::{read_npy_1d, read_signal};
use bandwise::experiment::config::Experiment;
use bandwise::optim::Registry;
use proptest::prelude::*;

const BASE: &str = "[target]\nn = 64\nfrequencies = [1, 4]\nphases = [0.0, 0.25]\n[optimizer]\nname = \"padam\"\nlr = 1e-3\np = 0.25\nbeta2 = 0.99\n[train]\nepochs = 3\n[record]\nsnapshots = [0, 3]\n";

/// BASE with the byte range `at..at+len` replaced by `with`.
fn mutate(at: usize, len: usize, with: &str) -> String {
    let at = at % BASE.len();
    let end = (at + len).min(BASE.len());
    format!("{}{with}{}", &BASE[..at], &BASE[end..])
}

fn config() -> impl Strategy<Value = String> {
    prop_oneof![
        (0usize..400, 0usize..8, "[-0-9a-z.=\\[\\]\" ,\n{}]{0,8}")
            .prop_map(|(a, l, w)| mutate(a, l, &w)),
        "\\PC{0,200}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn config_errors_name_the_file(text in config()) {
        match Experiment::from_toml_str(&text, "fuzz.toml") {
            Err(e) => prop_assert!(e.to_string().contains("fuzz.toml"), "{e}"),
            // Parsed: validation must not panic (its errors name the field).
            Ok(exp) => { let _ = exp.validate(&Registry::builtin()); }
        }
    }

    #[test]
    fn npy_errors_name_the_file(cut in 0usize..200, junk in proptest::collection::vec(any::<u8>(), 0..64), pos in 0usize..200) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sig.npy");
        ndarray_npy::write_npy(&path, &ndarray::Array1::<f64>::linspace(0.0, 1.0, 8)).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(cut.min(bytes.len()));
        let at = pos.min(bytes.len());
        bytes.splice(at..at, junk);
        std::fs::write(&path, &bytes).unwrap();
        if let Err(e) = read_npy_1d(&path) {
            prop_assert!(e.to_string().contains("sig.npy"), "{e}");
        }
    }

    #[test]
    fn csv_errors_name_the_file(text in "[-0-9a-z.,#\n ]{0,120}", column in proptest::option::of("[0-9a-z]{1,3}")) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sig.csv");
        std::fs::write(&path, &text).unwrap();
        match read_signal(&path, column.as_deref()) {
            Err(e) => prop_assert!(e.to_string().contains("sig.csv"), "{e}"),
            Ok(v) => prop_assert!(v.iter().all(|x| x.is_finite())),
        }
    }
}
