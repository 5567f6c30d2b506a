//! Reading signals from other tools: 1D or 2D arrays from NPY files (f32 or f64, C or Fortran
//! order) and columns of numbers from CSV files. Errors name the file and the expected shape.

use anyhow::{bail, Context, Result};
use ndarray::{Array1, Array2};
use ndarray_npy::{read_npy, ReadNpyError};
use std::path::Path;

/// What is wrong with an NPY file, in words (no library jargon such as "NDIM = Some(1)").
pub fn describe_npy_error(e: &ReadNpyError) -> String {
    use std::io::ErrorKind;
    match e {
        ReadNpyError::WrongNdim(_, got) => format!("it holds a {got}D array"),
        ReadNpyError::WrongDescriptor(d) => {
            format!("its dtype is {d}, not float32 or float64")
        }
        ReadNpyError::MissingData => {
            "it is truncated (it holds less data than its header describes)".into()
        }
        ReadNpyError::ExtraBytes(n) => {
            format!("it has {n} bytes after the data its header describes")
        }
        ReadNpyError::Io(io) if io.kind() == ErrorKind::UnexpectedEof => {
            "it is truncated (it ends before its header or data does)".into()
        }
        ReadNpyError::Io(io) if io.kind() == ErrorKind::NotFound => "no such file".into(),
        ReadNpyError::Io(io) => format!("it cannot be read ({io})"),
        ReadNpyError::ParseHeader(h) => format!("it is not an NPY file ({h})"),
        other => format!("{other}"),
    }
}

fn npy_error(path: &Path, e: ReadNpyError, expected: &str) -> anyhow::Error {
    let hint = match &e {
        ReadNpyError::Io(_) => String::new(),
        ReadNpyError::WrongNdim(_, _) => {
            format!("; save {expected} (e.g. one row or column of your array) with numpy.save")
        }
        _ => "; write it with numpy.save(path, array.astype(numpy.float64))".into(),
    };
    anyhow::anyhow!(
        "{}: cannot read as {expected}: {}{hint}",
        path.display(),
        describe_npy_error(&e)
    )
}

/// Refuse an NPY file whose header claims more data than the file holds, before the NPY
/// library allocates for the claimed shape. Headers this check cannot parse are left to the
/// library's own errors.
pub fn check_npy_size(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file_len = f.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    let mut pre = [0u8; 12];
    if f.read_exact(&mut pre).is_err() || &pre[..6] != b"\x93NUMPY" {
        return Ok(());
    }
    let (header_len, start) = match pre[6] {
        1 => (u16::from_le_bytes([pre[8], pre[9]]) as u64, 10u64),
        _ => (
            u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]) as u64,
            12u64,
        ),
    };
    let data_start = start + header_len;
    if data_start > file_len {
        bail!("{}: the NPY header claims {header_len} bytes but the file holds {file_len}; the file is truncated", path.display());
    }
    let mut header = vec![0u8; header_len as usize];
    let mut rest = std::fs::File::open(path)?;
    std::io::copy(&mut (&mut rest).take(start), &mut std::io::sink())?;
    rest.read_exact(&mut header)?;
    let header = String::from_utf8_lossy(&header);
    let item_size = header
        .find("'descr'")
        .and_then(|i| header[i + 7..].split('\'').nth(1))
        .and_then(|d| d.trim_start_matches(['<', '>', '|', '=']).get(1..))
        .and_then(|n| n.parse::<u64>().ok());
    let shape: Option<Vec<u64>> = header.find("'shape'").and_then(|i| {
        let open = i + header[i..].find('(')?;
        let close = open + header[open..].find(')')?;
        header[open + 1..close]
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_end_matches('L').parse::<u64>().ok())
            .collect()
    });
    let (Some(item_size), Some(shape)) = (item_size, shape) else {
        return Ok(());
    };
    let claimed = shape
        .iter()
        .try_fold(item_size, |acc, &d| acc.checked_mul(d));
    let available = file_len - data_start;
    if claimed.is_none_or(|c| c > available) {
        let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
        bail!(
            "{}: the NPY header claims shape ({}) of {item_size}-byte values ({}), but the file holds {available} bytes of data: the file is truncated or its header is wrong",
            path.display(),
            dims.join(", "),
            claimed.map_or("more than 2^64 bytes".to_string(), |c| format!("{c} bytes"))
        );
    }
    Ok(())
}

/// A 1D f64 array from an NPY file holding f64 or f32 values.
pub fn read_npy_1d(path: &Path) -> Result<Vec<f64>> {
    check_npy_size(path)?;
    match read_npy::<_, Array1<f64>>(path) {
        Ok(a) => Ok(a.to_vec()),
        Err(ReadNpyError::WrongDescriptor(_)) => match read_npy::<_, Array1<f32>>(path) {
            Ok(a) => Ok(a.iter().map(|&x| x as f64).collect()),
            Err(e) => Err(npy_error(path, e, "a 1D float32/float64 array")),
        },
        Err(e) => Err(npy_error(path, e, "a 1D float32/float64 array")),
    }
}

/// A 2D f64 array (rows x cols) from an NPY file holding f64 or f32 values.
pub fn read_npy_2d(path: &Path) -> Result<Array2<f64>> {
    check_npy_size(path)?;
    match read_npy::<_, Array2<f64>>(path) {
        Ok(a) => Ok(a),
        Err(ReadNpyError::WrongDescriptor(_)) => match read_npy::<_, Array2<f32>>(path) {
            Ok(a) => Ok(a.mapv(|x| x as f64)),
            Err(e) => Err(npy_error(path, e, "a 2D float32/float64 array")),
        },
        Err(e) => Err(npy_error(path, e, "a 2D float32/float64 array")),
    }
}

/// One column of numbers from a CSV file: `#` lines are skipped; a first line that is not a
/// number is a header. `column` picks a column by header name or by 0-based index; it is
/// required when the file has more than one column (the error lists them), so that a `t`
/// coordinate column is never taken for the signal.
pub fn read_csv_column(path: &Path, column: Option<&str>) -> Result<Vec<f64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .peekable();
    let first: Vec<&str> = lines
        .peek()
        .map(|(_, l)| l.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let has_header = first.iter().any(|c| c.parse::<f64>().is_err());
    let names: Vec<String> = if has_header {
        first.iter().map(|c| format!("`{c}`")).collect()
    } else {
        (0..first.len()).map(|i| format!("#{i}")).collect()
    };
    let col = match column {
        Some(c) => match c.parse::<usize>() {
            Ok(i) if i < first.len() => i,
            Ok(i) => bail!(
                "{}: --column {i} is out of range: the file has {} column(s) ({}), counted from 0",
                path.display(),
                first.len(),
                names.join(", ")
            ),
            Err(_) if has_header => first.iter().position(|h| *h == c).with_context(|| {
                format!(
                    "{}: no column `{c}` (columns: {})",
                    path.display(),
                    names.join(", ")
                )
            })?,
            Err(_) => bail!(
                "{}: has no header line, so --column {c} cannot be found; give a 0-based index (the file has {} column(s))",
                path.display(),
                first.len()
            ),
        },
        None if first.len() > 1 => bail!(
            "{}: has {} columns ({}); choose the signal with --column NAME or --column INDEX (from 0)",
            path.display(),
            first.len(),
            names.join(", ")
        ),
        None => 0,
    };
    if has_header {
        lines.next();
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        let cell = line.split(',').nth(col).map(str::trim).unwrap_or("");
        let v: f64 = cell.parse().with_context(|| {
            format!(
                "{}: line {}: `{cell}` is not a number (column {})",
                path.display(),
                i + 1,
                names.get(col).map_or("?", String::as_str)
            )
        })?;
        out.push(v);
    }
    if out.is_empty() {
        bail!("{}: no numbers found", path.display());
    }
    Ok(out)
}

/// A signal from `.npy` or `.csv` (by extension); every sample must be finite.
pub fn read_signal(path: &Path, column: Option<&str>) -> Result<Vec<f64>> {
    let signal = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("npy") => read_npy_1d(path)?,
        Some("csv") | Some("txt") => read_csv_column(path, column)?,
        _ => bail!(
            "{}: unknown signal format; use a .npy (1D array) or .csv (one column of numbers) file",
            path.display()
        ),
    };
    if let Some((i, x)) = signal.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        bail!(
            "{}: sample {i} is {x}; a spectrum needs finite values (remove or interpolate it)",
            path.display()
        );
    }
    Ok(signal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, ShapeBuilder};
    use ndarray_npy::write_npy;

    #[test]
    fn npy_f32_f64_and_fortran_order() {
        let dir = tempfile::tempdir().unwrap();
        let p64 = dir.path().join("a.npy");
        write_npy(&p64, &array![1.0f64, 2.5, -3.0]).unwrap();
        assert_eq!(read_signal(&p64, None).unwrap(), [1.0, 2.5, -3.0]);
        let p32 = dir.path().join("b.npy");
        write_npy(&p32, &array![1.0f32, 0.5]).unwrap();
        assert_eq!(read_npy_1d(&p32).unwrap(), [1.0, 0.5]);
        let pf = dir.path().join("f.npy");
        let mut f = Array2::<f64>::zeros((2, 3).f());
        f[[0, 2]] = 7.0;
        f[[1, 0]] = 5.0;
        write_npy(&pf, &f).unwrap();
        let back = read_npy_2d(&pf).unwrap();
        assert_eq!((back[[0, 2]], back[[1, 0]], back.dim()), (7.0, 5.0, (2, 3)));
        let e = read_npy_1d(&pf).unwrap_err().to_string();
        assert!(e.contains("f.npy") && e.contains("1D"), "{e}");
        std::fs::write(dir.path().join("t.npy"), b"\x93NUMPY garbage").unwrap();
        assert!(read_npy_1d(&dir.path().join("t.npy")).is_err());
    }

    #[test]
    fn csv_with_and_without_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(&p, "# comment\nt,value\n0,1.5\n0.5,-2\n").unwrap();
        assert_eq!(read_signal(&p, Some("value")).unwrap(), [1.5, -2.0]);
        assert_eq!(read_signal(&p, Some("0")).unwrap(), [0.0, 0.5]);
        // Two columns and no --column: an error listing them, never the `t` column.
        let e = read_signal(&p, None).unwrap_err().to_string();
        assert!(e.contains("s.csv") && e.contains("`t`, `value`"), "{e}");
        assert!(read_signal(&p, Some("nope"))
            .unwrap_err()
            .to_string()
            .contains("no column `nope`"));
        std::fs::write(&p, "1\n2\nx\n").unwrap();
        assert!(read_signal(&p, None)
            .unwrap_err()
            .to_string()
            .contains("line 3"));
        std::fs::write(&p, "1\nnan\n2\n").unwrap();
        let e = read_signal(&p, None).unwrap_err().to_string();
        assert!(e.contains("s.csv") && e.contains("sample 1 is NaN"), "{e}");
        assert!(read_signal(&dir.path().join("s.wav"), None).is_err());
    }
}
