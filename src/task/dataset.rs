//! User data for a `dataset` task: features and class labels (classification) or values
//! (regression), a train and a test split, each read from an NPY or CSV file and validated.
//!
//! Files (by extension):
//! - `.npy`: any float or integer dtype (float16/bool/complex/strings are refused), C or
//!   Fortran order; a 1D array is one column.
//! - `.csv` (or `.txt`): comma-separated numbers, one sample per line; `#` lines and blank lines
//!   are skipped; a first line with a non-number is a header.
//!
//! Shapes: features n x d (a 1D array is d = 1); labels n values (1D or one column); regression
//! values n (1D) or n x K. Train and test have the same d (and the same K for values).
//! Checks: every value finite; labels integer-valued in 0..K, where K is given or is 1 + the
//! largest training label; every class present in train (the counts are kept and reported).
//! Every error names the file, its field (`dataset.x_train`, `dataset.y_train`,
//! `dataset.x_test`, `dataset.y_test`), what was expected, and the fix.

use crate::base::signal_io::check_npy_size;
use anyhow::{anyhow, bail, Context, Result};
use ndarray::{Array2, ArrayD};
use ndarray_npy::{read_npy, ReadNpyError};
use std::path::{Path, PathBuf};

/// What the labels file of each split holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Integer class labels in 0..K; `classes` = K, or None to take 1 + the largest train label.
    Classification { classes: Option<usize> },
    /// Real values, one or K per sample.
    Regression,
}

/// The four files of a dataset and what their labels are.
#[derive(Clone, Debug)]
pub struct DatasetSpec {
    pub x_train: PathBuf,
    pub y_train: PathBuf,
    pub x_test: PathBuf,
    pub y_test: PathBuf,
    pub kind: Kind,
}

/// The targets of one split.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// One class in 0..K per sample.
    Classes(Vec<usize>),
    /// n x K values.
    Values(Array2<f64>),
}

/// One split: features (n x d, row-major) and their targets.
#[derive(Clone, Debug)]
pub struct Split {
    pub x: Array2<f64>,
    pub y: Targets,
}

/// A validated dataset.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub train: Split,
    pub test: Split,
    /// K, for classification.
    pub classes: Option<usize>,
    /// Samples per class 0..K in train and in test (empty for regression).
    pub train_counts: Vec<usize>,
    pub test_counts: Vec<usize>,
}

impl Dataset {
    /// One line: sizes, and the class counts for classification.
    pub fn summary(&self) -> String {
        let (n0, d) = self.train.x.dim();
        let n1 = self.test.x.nrows();
        match self.classes {
            Some(k) => format!(
                "{n0} train / {n1} test samples, {d} features, {k} classes; per class train {:?}, test {:?}",
                self.train_counts, self.test_counts
            ),
            None => {
                let width = match &self.train.y {
                    Targets::Values(v) => v.ncols(),
                    Targets::Classes(_) => 1,
                };
                format!("{n0} train / {n1} test samples, {d} features, {width} output(s)")
            }
        }
    }
}

/// A file and the field that names it, for error messages.
struct Source<'a> {
    path: &'a Path,
    field: &'static str,
}

impl std::fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (dataset.{})", self.path.display(), self.field)
    }
}

const FEATURES: &str = "an n x d array of numbers, one sample per row";
const LABELS: &str = "n integer class labels (a 1D array or one column)";
const VALUES: &str = "n regression values (a 1D array) or an n x K array";

/// Values of a file as an n x c table (a 1D array is one column).
fn read_table(src: &Source, expected: &str) -> Result<Array2<f64>> {
    let ext = src
        .path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("npy") => read_npy_table(src, expected),
        Some("csv") | Some("txt") => read_csv_table(src),
        _ => bail!("{src}: unknown format; expected {expected} in a .npy or .csv file"),
    }
}

fn npy_as_f64<T: ndarray_npy::ReadableElement + Copy + Into<Widened>>(
    path: &Path,
) -> std::result::Result<ArrayD<f64>, ReadNpyError> {
    read_npy::<_, ArrayD<T>>(path).map(|a| a.mapv(|v| v.into().0))
}

/// A number widened to f64 (64-bit integers beyond 2^53 round; they fail label checks anyway).
struct Widened(f64);
macro_rules! widen {
    ($($t:ty),*) => {$(
        impl From<$t> for Widened {
            fn from(v: $t) -> Self {
                Widened(v as f64)
            }
        }
    )*};
}
widen!(f64, f32, i64, i32, i16, i8, u64, u32, u16, u8);

/// Reads an NPY file of one dtype, widened to f64.
type NpyReader = fn(&Path) -> std::result::Result<ArrayD<f64>, ReadNpyError>;

fn read_npy_table(src: &Source, expected: &str) -> Result<Array2<f64>> {
    if !src.path.exists() {
        bail!("{src}: no such file; expected {expected}");
    }
    check_npy_size(src.path).with_context(|| format!("reading dataset.{}", src.field))?;
    let readers: [NpyReader; 10] = [
        npy_as_f64::<f64>,
        npy_as_f64::<f32>,
        npy_as_f64::<i64>,
        npy_as_f64::<i32>,
        npy_as_f64::<i16>,
        npy_as_f64::<i8>,
        npy_as_f64::<u64>,
        npy_as_f64::<u32>,
        npy_as_f64::<u16>,
        npy_as_f64::<u8>,
    ];
    let mut last = None;
    for read in readers {
        match read(src.path) {
            Ok(a) => return to_table(src, a, expected),
            Err(ReadNpyError::WrongDescriptor(d)) => last = Some(d),
            Err(e) => bail!(
                "{src}: cannot read {expected}: {}",
                crate::base::signal_io::describe_npy_error(&e)
            ),
        }
    }
    let d = last.map_or_else(|| "?".into(), |d| d.to_string());
    bail!(
        "{src}: dtype {d} is not a supported number type; expected {expected}: save it with numpy.save as float32/float64 (or an integer type for labels)"
    )
}

fn to_table(src: &Source, a: ArrayD<f64>, expected: &str) -> Result<Array2<f64>> {
    let shape = a.shape().to_vec();
    let (n, c) = match shape[..] {
        [n] => (n, 1),
        [n, c] => (n, c),
        _ => bail!(
            "{src}: holds a {}D array of shape {shape:?}; expected {expected}",
            shape.len()
        ),
    };
    // Logical (row-major) order whatever the file's memory order.
    Array2::from_shape_vec((n, c), a.iter().copied().collect()).map_err(|e| anyhow!("{src}: {e}"))
}

fn read_csv_table(src: &Source) -> Result<Array2<f64>> {
    let text = std::fs::read_to_string(src.path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow!("{src}: no such file; expected one sample per line")
        } else {
            anyhow!("{src}: cannot read ({e})")
        }
    })?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .peekable();
    if let Some((_, first)) = lines.peek() {
        if first.split(',').any(|c| c.trim().parse::<f64>().is_err()) {
            lines.next(); // header
        }
    }
    let mut values = Vec::new();
    let mut width = None;
    let mut rows = 0;
    for (i, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let w = *width.get_or_insert(cells.len());
        if cells.len() != w {
            bail!(
                "{src}: line {} has {} values but the first data line has {w}; every line needs the same number of comma-separated values",
                i + 1,
                cells.len()
            );
        }
        for (j, cell) in cells.iter().enumerate() {
            values.push(cell.parse::<f64>().map_err(|_| {
                anyhow!(
                    "{src}: line {}, column {j}: `{cell}` is not a number",
                    i + 1
                )
            })?);
        }
        rows += 1;
    }
    let Some(w) = width else {
        bail!("{src}: no numbers found; expected one sample per line");
    };
    Ok(Array2::from_shape_vec((rows, w), values)?)
}

fn check_finite(src: &Source, t: &Array2<f64>, what: &str) -> Result<()> {
    if let Some(((i, j), v)) = t.indexed_iter().find(|(_, v)| !v.is_finite()) {
        bail!("{src}: sample {i}, column {j} is {v}; {what} must be finite (remove or impute that sample)");
    }
    Ok(())
}

fn read_features(path: &Path, field: &'static str) -> Result<Array2<f64>> {
    let src = Source { path, field };
    let x = read_table(&src, FEATURES)?;
    if x.nrows() == 0 || x.ncols() == 0 {
        bail!(
            "{src}: holds {} x {} values; expected {FEATURES} with n >= 1 and d >= 1",
            x.nrows(),
            x.ncols()
        );
    }
    check_finite(&src, &x, "features")?;
    Ok(x)
}

/// Labels as integers (not yet range-checked against K).
fn read_labels(path: &Path, field: &'static str) -> Result<Vec<usize>> {
    let src = Source { path, field };
    let t = read_table(&src, LABELS)?;
    if t.ncols() != 1 {
        bail!(
            "{src}: holds {} x {} values; expected {LABELS}: save the label vector alone",
            t.nrows(),
            t.ncols()
        );
    }
    t.iter()
        .enumerate()
        .map(|(i, &v)| {
            if !v.is_finite() || v < 0.0 || v.fract() != 0.0 || v > u32::MAX as f64 {
                bail!("{src}: label {i} is {v}; class labels must be integers 0, 1, ..., K-1 (map your classes to 0..K-1)");
            }
            Ok(v as usize)
        })
        .collect()
}

fn read_values(path: &Path, field: &'static str) -> Result<Array2<f64>> {
    let src = Source { path, field };
    let t = read_table(&src, VALUES)?;
    check_finite(&src, &t, "regression values")?;
    Ok(t)
}

fn counts(labels: &[usize], k: usize) -> Vec<usize> {
    let mut c = vec![0; k];
    for &y in labels {
        c[y] += 1;
    }
    c
}

/// Read and validate the four files of `spec`.
pub fn load(spec: &DatasetSpec) -> Result<Dataset> {
    let x_train = read_features(&spec.x_train, "x_train")?;
    let x_test = read_features(&spec.x_test, "x_test")?;
    let src = |path, field| Source { path, field };
    if x_train.ncols() != x_test.ncols() {
        bail!(
            "{} has {} features per sample but {} has {}; train and test need the same d",
            src(&spec.x_train, "x_train"),
            x_train.ncols(),
            src(&spec.x_test, "x_test"),
            x_test.ncols()
        );
    }
    let (y_train, y_test) = match spec.kind {
        Kind::Classification { .. } => (
            Targets::Classes(read_labels(&spec.y_train, "y_train")?),
            Targets::Classes(read_labels(&spec.y_test, "y_test")?),
        ),
        Kind::Regression => (
            Targets::Values(read_values(&spec.y_train, "y_train")?),
            Targets::Values(read_values(&spec.y_test, "y_test")?),
        ),
    };
    for (x, y, xf, yf, xp, yp) in [
        (
            &x_train,
            &y_train,
            "x_train",
            "y_train",
            &spec.x_train,
            &spec.y_train,
        ),
        (
            &x_test,
            &y_test,
            "x_test",
            "y_test",
            &spec.x_test,
            &spec.y_test,
        ),
    ] {
        let n = match y {
            Targets::Classes(l) => l.len(),
            Targets::Values(v) => v.nrows(),
        };
        if n != x.nrows() {
            bail!(
                "{} has {} samples (rows) but {} has {n}; expected one target per feature row (n x d features, n targets)",
                src(xp, xf),
                x.nrows(),
                src(yp, yf)
            );
        }
    }
    let (classes, train_counts, test_counts) = match (&spec.kind, &y_train, &y_test) {
        (Kind::Classification { classes }, Targets::Classes(tr), Targets::Classes(te)) => {
            let k = classes.unwrap_or_else(|| tr.iter().max().map_or(0, |m| m + 1));
            if k < 2 {
                bail!(
                    "{}: {k} class(es); classification needs K >= 2 classes in 0..K",
                    src(&spec.y_train, "y_train")
                );
            }
            let given = if classes.is_some() {
                "the configured K"
            } else {
                "1 + the largest train label"
            };
            for (labels, p, f) in [(tr, &spec.y_train, "y_train"), (te, &spec.y_test, "y_test")] {
                if let Some((i, &c)) = labels.iter().enumerate().find(|(_, &c)| c >= k) {
                    bail!(
                        "{}: label {i} is {c}, outside the classes 0..{k} ({k} = {given}); every test class must occur in train, and labels must be below K",
                        src(p, f)
                    );
                }
            }
            let ctr = counts(tr, k);
            if let Some(c) = ctr.iter().position(|&n| n == 0) {
                bail!(
                    "{}: class {c} has no training sample (samples per class 0..{k}: {ctr:?}); every class needs at least one (relabel the classes to 0..K-1 without gaps)",
                    src(&spec.y_train, "y_train")
                );
            }
            (Some(k), ctr, counts(te, k))
        }
        (_, Targets::Values(tr), Targets::Values(te)) => {
            if tr.ncols() != te.ncols() {
                bail!(
                    "{} has {} values per sample but {} has {}; train and test need the same number of outputs",
                    src(&spec.y_train, "y_train"),
                    tr.ncols(),
                    src(&spec.y_test, "y_test"),
                    te.ncols()
                );
            }
            (None, Vec::new(), Vec::new())
        }
        _ => unreachable!("targets follow the kind"),
    };
    Ok(Dataset {
        train: Split {
            x: x_train,
            y: y_train,
        },
        test: Split {
            x: x_test,
            y: y_test,
        },
        classes,
        train_counts,
        test_counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1, ShapeBuilder};
    use ndarray_npy::write_npy;
    use tempfile::TempDir;

    fn spec(dir: &TempDir, names: [&str; 4], kind: Kind) -> DatasetSpec {
        let p = |n: &str| dir.path().join(n);
        DatasetSpec {
            x_train: p(names[0]),
            y_train: p(names[1]),
            x_test: p(names[2]),
            y_test: p(names[3]),
            kind,
        }
    }

    const NPY: [&str; 4] = ["xtr.npy", "ytr.npy", "xte.npy", "yte.npy"];
    const CLS: Kind = Kind::Classification { classes: None };

    /// A valid classification set in NPY: 4 train samples (classes 0,1,2,1), 2 test.
    fn valid_npy() -> TempDir {
        let dir = tempfile::tempdir().unwrap();
        let x = array![[0.0f32, 1.0], [1.0, 0.5], [2.0, -1.0], [3.0, 0.0]];
        write_npy(dir.path().join("xtr.npy"), &x).unwrap();
        write_npy(dir.path().join("ytr.npy"), &array![0i64, 1, 2, 1]).unwrap();
        write_npy(
            dir.path().join("xte.npy"),
            &array![[0.5f64, 0.5], [1.5, 1.5]],
        )
        .unwrap();
        write_npy(dir.path().join("yte.npy"), &array![2u8, 2]).unwrap();
        dir
    }

    fn err(s: &DatasetSpec) -> String {
        format!("{:#}", load(s).unwrap_err())
    }

    #[test]
    fn npy_classification_happy_path() {
        let dir = valid_npy();
        let d = load(&spec(&dir, NPY, CLS)).unwrap();
        assert_eq!(d.classes, Some(3));
        assert_eq!(d.train.x.dim(), (4, 2));
        assert_eq!(d.train.x[[2, 1]], -1.0);
        assert_eq!(d.train.y, Targets::Classes(vec![0, 1, 2, 1]));
        assert_eq!(
            (d.train_counts.clone(), d.test_counts.clone()),
            (vec![1, 2, 1], vec![0, 0, 2])
        );
        assert!(d.summary().contains("3 classes"), "{}", d.summary());
        // K given larger than the labels need: a class absent from train is an error.
        let e = err(&spec(&dir, NPY, Kind::Classification { classes: Some(4) }));
        assert!(
            e.contains("ytr.npy (dataset.y_train)")
                && e.contains("class 3 has no training sample")
                && e.contains("[1, 2, 1, 0]"),
            "{e}"
        );
        // Fortran-order features read in logical order.
        let mut f = Array2::<f64>::zeros((4, 2).f());
        f[[2, 1]] = 7.0;
        write_npy(dir.path().join("xtr.npy"), &f).unwrap();
        assert_eq!(load(&spec(&dir, NPY, CLS)).unwrap().train.x[[2, 1]], 7.0);
    }

    #[test]
    fn csv_and_regression_happy_paths() {
        let dir = tempfile::tempdir().unwrap();
        let w = |n: &str, s: &str| std::fs::write(dir.path().join(n), s).unwrap();
        w("xtr.csv", "# my data\na,b\n0,1\n1,2\n\n2,3\n");
        w("ytr.csv", "label\n1\n0\n1\n");
        w("xte.csv", "5,6\n");
        w("yte.csv", "0.0\n");
        let names = ["xtr.csv", "ytr.csv", "xte.csv", "yte.csv"];
        let d = load(&spec(&dir, names, CLS)).unwrap();
        assert_eq!(d.train.x, array![[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]);
        assert_eq!(d.train_counts, vec![1, 2]);
        // Regression: two outputs per sample from CSV; 1D NPY values and 1D features (d = 1).
        w("ytr.csv", "u,v\n1,2\n3,4\n5,6\n");
        w("yte.csv", "0.5,0.25\n");
        let d = load(&spec(&dir, names, Kind::Regression)).unwrap();
        assert_eq!(d.test.y, Targets::Values(array![[0.5, 0.25]]));
        assert!(d.summary().contains("2 output(s)"));
        write_npy(dir.path().join("x1.npy"), &array![0.1f64, 0.2]).unwrap();
        write_npy(dir.path().join("y1.npy"), &array![1.0f32, -1.0]).unwrap();
        let d = load(&spec(
            &dir,
            ["x1.npy", "y1.npy", "x1.npy", "y1.npy"],
            Kind::Regression,
        ))
        .unwrap();
        assert_eq!(d.train.x.dim(), (2, 1));
        assert_eq!(d.train.y, Targets::Values(array![[1.0], [-1.0]]));
    }

    #[test]
    fn loads_the_mnist1d_fixture() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mnist1d");
        let d = load(&DatasetSpec {
            x_train: dir.join("x_train.npy"),
            y_train: dir.join("y_train.npy"),
            x_test: dir.join("x_test.npy"),
            y_test: dir.join("y_test.npy"),
            kind: Kind::Classification { classes: Some(10) },
        })
        .unwrap();
        assert_eq!((d.train.x.dim(), d.test.x.dim()), ((4000, 40), (1000, 40)));
        assert_eq!(
            d.train_counts,
            [398, 396, 411, 394, 394, 402, 401, 404, 402, 398]
        );
        assert_eq!(d.test_counts, [102, 104, 89, 106, 106, 98, 99, 96, 98, 102]);
    }

    #[test]
    fn missing_file_unknown_format_and_truncated_npy() {
        let dir = valid_npy();
        let mut s = spec(&dir, NPY, CLS);
        s.x_test = dir.path().join("nope.npy");
        let e = err(&s);
        assert!(
            e.contains("nope.npy (dataset.x_test): no such file") && e.contains("n x d"),
            "{e}"
        );
        s.x_test = dir.path().join("x.parquet");
        let e = err(&s);
        assert!(
            e.contains("(dataset.x_test): unknown format") && e.contains(".npy or .csv"),
            "{e}"
        );
        let bytes = std::fs::read(dir.path().join("xtr.npy")).unwrap();
        std::fs::write(dir.path().join("xtr.npy"), &bytes[..bytes.len() - 4]).unwrap();
        let e = err(&spec(&dir, NPY, CLS));
        assert!(
            e.contains("xtr.npy") && e.contains("truncated") && e.contains("dataset.x_train"),
            "{e}"
        );
    }

    #[test]
    fn wrong_dimensionality_and_dtype() {
        let dir = valid_npy();
        write_npy(
            dir.path().join("xte.npy"),
            &ArrayD::<f64>::zeros(vec![2, 2, 1]),
        )
        .unwrap();
        let e = err(&spec(&dir, NPY, CLS));
        assert!(
            e.contains("xte.npy (dataset.x_test): holds a 3D array of shape [2, 2, 1]")
                && e.contains("n x d"),
            "{e}"
        );
        let dir = valid_npy();
        write_npy(
            dir.path().join("ytr.npy"),
            &Array1::from(vec![true, false, true, true]),
        )
        .unwrap();
        let e = err(&spec(&dir, NPY, CLS));
        assert!(
            e.contains("ytr.npy (dataset.y_train): dtype")
                && e.contains("not a supported number type"),
            "{e}"
        );
    }

    #[test]
    fn non_finite_values_are_located() {
        let dir = valid_npy();
        write_npy(
            dir.path().join("xte.npy"),
            &array![[0.5f64, 0.5], [1.5, f64::NAN]],
        )
        .unwrap();
        let e = err(&spec(&dir, NPY, CLS));
        assert!(
            e.contains("xte.npy (dataset.x_test): sample 1, column 1 is NaN"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.csv"), "1\n2\n").unwrap();
        std::fs::write(dir.path().join("y.csv"), "0.5\ninf\n").unwrap();
        let e = err(&spec(
            &dir,
            ["x.csv", "y.csv", "x.csv", "y.csv"],
            Kind::Regression,
        ));
        assert!(
            e.contains("y.csv (dataset.y_train): sample 1, column 0 is inf"),
            "{e}"
        );
    }

    #[test]
    fn malformed_csv() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["x.csv", "y.csv", "x.csv", "y.csv"];
        std::fs::write(dir.path().join("y.csv"), "0\n1\n").unwrap();
        std::fs::write(dir.path().join("x.csv"), "1,2\n3\n").unwrap();
        let e = err(&spec(&dir, names, CLS));
        assert!(
            e.contains("x.csv (dataset.x_train): line 2 has 1 values") && e.contains("same number"),
            "{e}"
        );
        std::fs::write(dir.path().join("x.csv"), "1,2\n3,abc\n").unwrap();
        let e = err(&spec(&dir, names, CLS));
        assert!(e.contains("line 2, column 1: `abc` is not a number"), "{e}");
        std::fs::write(dir.path().join("x.csv"), "# only a comment\n").unwrap();
        assert!(err(&spec(&dir, names, CLS)).contains("no numbers found"));
    }

    #[test]
    fn shape_mismatches() {
        let dir = valid_npy();
        write_npy(dir.path().join("ytr.npy"), &array![0i64, 1, 2]).unwrap();
        let e = err(&spec(&dir, NPY, CLS));
        assert!(
            e.contains("xtr.npy (dataset.x_train) has 4 samples")
                && e.contains("ytr.npy (dataset.y_train) has 3"),
            "{e}"
        );
        let dir = valid_npy();
        write_npy(dir.path().join("xte.npy"), &array![[0.5f64], [1.5]]).unwrap();
        let e = err(&spec(&dir, NPY, CLS));
        assert!(
            e.contains("has 2 features per sample") && e.contains("(dataset.x_test) has 1"),
            "{e}"
        );
        let dir = valid_npy();
        write_npy(
            dir.path().join("ytr.npy"),
            &array![[0i64, 1], [1, 0], [2, 1], [1, 1]],
        )
        .unwrap();
        let e = err(&spec(&dir, NPY, CLS));
        assert!(
            e.contains("(dataset.y_train): holds 4 x 2 values") && e.contains("label vector"),
            "{e}"
        );
        let dir = valid_npy();
        write_npy(
            dir.path().join("ytr.npy"),
            &array![[0.0f64, 1.0], [1.0, 0.0], [2.0, 1.0], [1.0, 1.0]],
        )
        .unwrap();
        write_npy(dir.path().join("yte.npy"), &array![1.0f64, 2.0]).unwrap();
        let e = err(&spec(&dir, NPY, Kind::Regression));
        assert!(
            e.contains("has 2 values per sample") && e.contains("(dataset.y_test) has 1"),
            "{e}"
        );
    }

    #[test]
    fn label_values_and_ranges() {
        for (bad, what) in [
            (2.5, "label 1 is 2.5"),
            (-1.0, "label 1 is -1"),
            (f64::NAN, "label 1 is NaN"),
        ] {
            let dir = valid_npy();
            write_npy(dir.path().join("ytr.npy"), &array![0.0f64, bad, 2.0, 1.0]).unwrap();
            let e = err(&spec(&dir, NPY, CLS));
            assert!(
                e.contains("(dataset.y_train)")
                    && e.contains(what)
                    && e.contains("integers 0, 1, ..., K-1"),
                "{e}"
            );
        }
        // A test class that train does not have.
        let dir = valid_npy();
        write_npy(dir.path().join("yte.npy"), &array![1i32, 3]).unwrap();
        let e = err(&spec(&dir, NPY, CLS));
        assert!(
            e.contains("yte.npy (dataset.y_test): label 1 is 3, outside the classes 0..3"),
            "{e}"
        );
        // Labels beyond a configured K.
        let e = err(&spec(&dir, NPY, Kind::Classification { classes: Some(2) }));
        assert!(
            e.contains("(dataset.y_train): label 2 is 2, outside the classes 0..2")
                && e.contains("configured K"),
            "{e}"
        );
        // A single class is not a classification task.
        let dir = valid_npy();
        write_npy(dir.path().join("ytr.npy"), &array![0u8, 0, 0, 0]).unwrap();
        write_npy(dir.path().join("yte.npy"), &array![0u8, 0]).unwrap();
        let e = err(&spec(&dir, NPY, CLS));
        assert!(
            e.contains("(dataset.y_train): 1 class(es)") && e.contains("K >= 2"),
            "{e}"
        );
    }
}
