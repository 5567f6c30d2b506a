//! `bandwise figures --quick` end to end: every analysis runs, every figure listed in the index
//! exists and decodes, and a second invocation reuses the finished runs.

use std::path::Path;
use std::process::Command;

fn figures(out: &Path, runs: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bandwise"))
        .args(["figures", "--quick", "--quiet", "--jobs", "2", "--out"])
        .arg(out)
        .arg("--runs")
        .arg(runs)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("bandwise runs")
}

#[test]
fn quick_figures_produce_every_listed_file_and_the_index() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, runs) = (tmp.path().join("figs"), tmp.path().join("runs"));
    let first = figures(&out, &runs);
    assert!(
        first.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    let names = String::from_utf8(
        Command::new(env!("CARGO_BIN_EXE_bandwise"))
            .args(["figures", "--list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let mut links = 0;
    for name in names.lines() {
        assert!(
            index.contains(&format!("`analyses/{name}.toml`")),
            "{name} missing from the index"
        );
        assert!(out.join(name).join("report.md").is_file());
        assert!(out.join(name).join("report.json").is_file());
    }
    // Every linked file exists; PNGs decode with a sensible size.
    for part in index.split("](").skip(1) {
        let target = &part[..part.find(')').unwrap()];
        let path = out.join(target);
        assert!(path.is_file(), "{target} is linked but missing");
        if target.ends_with(".png") {
            let decoder =
                png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
            let reader = decoder.read_info().unwrap();
            let info = reader.info();
            assert!(
                info.width >= 600 && info.height >= 400,
                "{target}: {}x{}",
                info.width,
                info.height
            );
            links += 1;
        }
    }
    assert!(links >= 15, "only {links} figures linked");
    for claim in ["C2", "C3", "C4", "C5", "C6"] {
        assert!(
            index.contains(&format!("### {claim}: ")),
            "{claim} has no table"
        );
    }
    // Holm per claim (p and Holm p columns in every claim's table), and the claim x task table
    // with the C3/C6 task family's 12 tasks in both claims' columns.
    assert_eq!(
        index
            .matches("| analysis | subject | verdict | p | Holm p | counted as | guards |")
            .count(),
        5,
        "one table per claim with Holm columns"
    );
    let by_task = &index[index.find("## Claim x task").expect("claim x task table")..];
    let family_rows: Vec<&str> = by_task
        .lines()
        .filter(|l| l.starts_with("| `c3c6_family.toml` |"))
        .collect();
    assert_eq!(family_rows.len(), 12, "{by_task}");
    for row in family_rows {
        // analysis | task | C2 | C3 | C4 | C5 | C6: only C3 and C6 are tested there.
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!((cells[3], cells[5], cells[6]), ("-", "-", "-"), "{row}");
        assert!(cells[4] != "-" && cells[7] != "-", "{row}");
    }
    // Reuse: a second run trains nothing new and gives the same index.
    let before = std::fs::read_dir(runs.join("c2_fixed_p/runs"))
        .unwrap()
        .count();
    let second = figures(&out, &runs);
    assert!(second.status.success());
    assert_eq!(
        std::fs::read_dir(runs.join("c2_fixed_p/runs"))
            .unwrap()
            .count(),
        before
    );
    assert_eq!(
        std::fs::read_to_string(out.join("index.md")).unwrap(),
        index
    );
}

#[test]
fn classification_analyses_quick_give_verdicts_and_class_maps() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, runs) = (tmp.path().join("figs"), tmp.path().join("runs"));
    let run = Command::new(env!("CARGO_BIN_EXE_bandwise"))
        .args(["figures", "--quick", "--quiet", "--jobs", "2"])
        .args([
            "--only",
            "c4c5c6_2d",
            "--only",
            "c4c5_mnist1d_fair",
            "--out",
        ])
        .arg(&out)
        .arg("--runs")
        .arg(&runs)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("bandwise runs");
    assert!(
        run.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    for name in ["c4c5c6_2d", "c4c5_mnist1d_fair"] {
        let report = std::fs::read_to_string(out.join(name).join("report.md")).unwrap();
        for claim in ["C4", "C5", "C6"] {
            assert!(
                report.contains(&format!("### {claim}: ")),
                "{name}: {report}"
            );
        }
        // Both use the fair-lr protocol: the lr column says the search chose it, and C5 says so.
        assert!(report.contains("(searched"), "{report}");
        assert!(report.contains("under the fair-lr protocol"), "{report}");
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(name).join("report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(json["verdicts"].as_array().unwrap().len(), 3, "{name}");
        assert!(runs.join(name).join("lr_search.json").is_file());
    }
    // The 2D analysis draws the class maps: 5 configurations, each a true map and snapshots.
    let maps = out.join("c4c5c6_2d/class_maps.png");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&maps).unwrap()));
    let reader = decoder.read_info().unwrap();
    let (w, h) = (reader.info().width, reader.info().height);
    assert!(w >= 900 && h >= 5 * 200, "{w}x{h}");
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    assert!(index.contains("(c4c5c6_2d/class_maps.png)"), "{index}");
}

#[test]
fn unknown_analysis_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_bandwise"))
        .args(["figures", "--quick", "--only", "c9_nothing"])
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("c9_nothing") && err.contains("c2_fixed_p"),
        "{err}"
    );
}
