//! Dotted paths into TOML tables and `--set key=value` assignments (used by configs, sweeps
//! and the protocol alike).

use anyhow::{bail, Result};
use serde_json::Value;

/// Parse a `--set` value as a TOML value (number, bool, string, array, inline table such as a
/// schedule `{ kind = "cosine", min = 0, max = 0.5, period = 100 }`); a bare word that is not
/// TOML (e.g. `rms`) is taken as a string.
pub fn parse_value(text: &str) -> Result<toml::Value> {
    let text = text.trim();
    match toml::from_str::<toml::Table>(&format!("v = {text}")) {
        Ok(mut t) => Ok(t.remove("v").expect("parsed key")),
        Err(e) => {
            if !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
                && text.parse::<f64>().is_err()
            {
                Ok(toml::Value::String(text.to_string()))
            } else {
                bail!(
                    "`{text}` is not a TOML value ({}); write numbers as 0.9, flags as true/false, words as \"rms\", schedules as {{ kind = \"cosine\", min = 0, max = 0.5, period = 100 }}",
                    e.message().trim()
                )
            }
        }
    }
}

/// Split `key=value` (for `--set`).
pub fn parse_assignment(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => bail!("--set {s:?}: expected key=value, e.g. --set beta1=0.95"),
    }
}

/// Set `value` at dotted `path` in `table`, creating missing intermediate tables.
pub fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<()> {
    let segments: Vec<&str> = path.split('.').collect();
    let mut cur = table;
    for (i, seg) in segments[..segments.len() - 1].iter().enumerate() {
        let entry = cur
            .entry(seg.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            other => bail!(
                "cannot set `{path}`: `{}` is {} ({other}), not a table",
                segments[..=i].join("."),
                other.type_str()
            ),
        };
    }
    cur.insert(segments[segments.len() - 1].to_string(), value);
    Ok(())
}

/// A TOML value as JSON (for sweep.json and lr_search.json).
pub fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_parse_as_toml() {
        assert_eq!(parse_value("0.95").unwrap(), toml::Value::Float(0.95));
        assert_eq!(parse_value("3").unwrap(), toml::Value::Integer(3));
        assert_eq!(parse_value("true").unwrap(), toml::Value::Boolean(true));
        assert_eq!(
            parse_value("rms").unwrap(),
            toml::Value::String("rms".into())
        );
        assert_eq!(
            parse_value("\"rms\"").unwrap(),
            toml::Value::String("rms".into())
        );
        let s = parse_value("{ kind = \"cosine\", min = 0, max = 0.5, period = 100 }").unwrap();
        assert_eq!(s["kind"].as_str(), Some("cosine"));
        assert!(parse_value("{ kind = ").is_err());
        assert_eq!(
            parse_assignment("beta1 = 0.9").unwrap(),
            ("beta1".into(), "0.9".into())
        );
        assert!(parse_assignment("beta1").is_err());
    }

    #[test]
    fn set_path_creates_tables_and_refuses_to_descend_into_values() {
        let mut t = toml::Table::new();
        set_path(&mut t, "a.b.c", toml::Value::Integer(1)).unwrap();
        assert_eq!(t["a"]["b"]["c"].as_integer(), Some(1));
        let e = set_path(&mut t, "a.b.c.d", toml::Value::Integer(2)).unwrap_err();
        assert!(e.to_string().contains("`a.b.c` is integer"), "{e}");
    }
}
