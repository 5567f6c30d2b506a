//! The committed MNIST-1D fixture (fixtures/mnist1d/, made by scripts/mnist1d_fixture.py from
//! the `mnist1d` package's `make_dataset` at its default arguments, seed 42): byte checksums,
//! shapes, dtypes, class counts, and that PROVENANCE.md states the same checksums.

use bandwise::base::signal_io::read_npy_2d;
use ndarray::Array1;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mnist1d")
}

/// (file, sha256 of its bytes), as written by the generator script.
const SHA256: [(&str, &str); 4] = [
    (
        "x_train.npy",
        "88324c8902778fbd2316ae1f8acbf36d87897390c1c2ad68212f4290790fa2b5",
    ),
    (
        "y_train.npy",
        "c718026182802e01693cbbad83b2af62a4e717da302e71815ac77fdbed4c5dde",
    ),
    (
        "x_test.npy",
        "d67069fc4db4b87677475f89583e9191285825f1eee33060f2fa2dc99fe5a53a",
    ),
    (
        "y_test.npy",
        "4134144e011c5abc45fc2a1f8fcad9556a4addd3bab819f191c3245d7018c243",
    ),
];

/// Samples per class 0..9 (the generator makes 500 of each, shuffles, and splits 4000/1000).
const TRAIN_COUNTS: [usize; 10] = [398, 396, 411, 394, 394, 402, 401, 404, 402, 398];
const TEST_COUNTS: [usize; 10] = [102, 104, 89, 106, 106, 98, 99, 96, 98, 102];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn checksums_match_the_generator_output_and_provenance() {
    let provenance = std::fs::read_to_string(dir().join("PROVENANCE.md")).unwrap();
    for (file, want) in SHA256 {
        let bytes = std::fs::read(dir().join(file)).unwrap();
        let got = hex(&Sha256::digest(&bytes));
        assert_eq!(
            got, want,
            "fixtures/mnist1d/{file}: sha256 changed; regenerate with scripts/mnist1d_fixture.py"
        );
        assert!(
            provenance.contains(want),
            "PROVENANCE.md does not state the sha256 of {file}"
        );
    }
    let licence = std::fs::read_to_string(dir().join("LICENSE")).unwrap();
    assert!(licence.contains("mnist1d") && licence.contains("Apache License"));
}

fn labels(file: &str) -> Vec<i64> {
    let y: Array1<i64> = ndarray_npy::read_npy(dir().join(file)).unwrap();
    y.to_vec()
}

fn counts(y: &[i64]) -> [usize; 10] {
    let mut c = [0usize; 10];
    for &k in y {
        assert!((0..10).contains(&k), "label {k} outside 0..9");
        c[k as usize] += 1;
    }
    c
}

#[test]
fn shapes_dtypes_and_class_counts() {
    let x_train = read_npy_2d(&dir().join("x_train.npy")).unwrap();
    let x_test = read_npy_2d(&dir().join("x_test.npy")).unwrap();
    assert_eq!(x_train.dim(), (4000, 40));
    assert_eq!(x_test.dim(), (1000, 40));
    // The files hold float32 (the reader widens to f64): check the header says so.
    let head = std::fs::read(dir().join("x_train.npy")).unwrap();
    assert!(String::from_utf8_lossy(&head[..128]).contains("'descr': '<f4'"));
    assert!(x_train.iter().chain(x_test.iter()).all(|v| v.is_finite()));
    // The generator standardises all 5000 signals together: the train part is close to it.
    let n = x_train.len() as f64;
    let mean = x_train.sum() / n;
    let std = (x_train.mapv(|v| (v - mean) * (v - mean)).sum() / n).sqrt();
    assert!(
        mean.abs() < 0.01 && (std - 1.0).abs() < 0.01,
        "{mean} {std}"
    );

    let y_train = labels("y_train.npy");
    let y_test = labels("y_test.npy");
    assert_eq!((y_train.len(), y_test.len()), (4000, 1000));
    let (ctr, cte) = (counts(&y_train), counts(&y_test));
    assert_eq!(ctr, TRAIN_COUNTS);
    assert_eq!(cte, TEST_COUNTS);
    for k in 0..10 {
        assert_eq!(ctr[k] + cte[k], 500, "class {k}: 500 samples in all");
    }
}
