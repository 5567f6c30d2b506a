//! `bandwise plot` end to end: tiny real runs rendered through the library
//! (`bandwise::plot::draw` / `standard_set`) and through the binary; PNGs decode with the
//! expected sizes, a diverged run renders, bad input gives clear errors.

mod common;

use bandwise::plot::from_record::Measure;
use bandwise::plot::{draw, standard_set, Format, Kind, PlotOptions};
use common::{bandwise_bin, make_run, png_size};

fn config(name: &str, optimizer: &str, seed: u64) -> String {
    format!(
        r#"
name = "{name}"
seed = {seed}
[target]
n = 32
frequencies = [1, 4]
[model]
hidden = [8]
[optimizer]
{optimizer}
[train]
epochs = 30
[spectral]
layout = {{ kind = "octave" }}
grids = ["train", "test"]
thresholds = [0.1]
"#
    )
}

const PADAM: &str = r#"name = "padam"
lr = 1e-2
p = { kind = "cosine", min = -0.5, max = 0.5, period = 10 }"#;

/// `bandwise plot` with `args`: (success, stdout, stderr).
fn bin(args: &[&str]) -> (bool, String, String) {
    bandwise_bin(&[&["plot"], args].concat())
}

#[test]
fn every_kind_renders_through_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let a = make_run(&tmp.path().join("a"), &config("a", PADAM, 0));
    let b = make_run(&tmp.path().join("b"), &config("a", PADAM, 1));
    let opts = PlotOptions::default();
    let out = tmp.path().join("fig");
    for kind in [Kind::Heatmap, Kind::Curves, Kind::Snapshots] {
        let p = out.join(format!("{}.png", kind.stem()));
        draw(kind, std::slice::from_ref(&a), &p, &opts).unwrap();
        let (w, h) = png_size(&p);
        assert!(w >= 900 && h >= 500, "{kind:?}: {w}x{h}");
    }
    // Heatmap with a p strip: 600 + one strip of 72 + 14 pixels.
    assert_eq!(png_size(&out.join("heatmap.png")), (1000, 686));
    assert_eq!(png_size(&out.join("curves.png")), (1000, 650));
    let runs = [a.clone(), b];
    draw(Kind::Loss, &runs, &out.join("loss.png"), &opts).unwrap();
    assert_eq!(png_size(&out.join("loss.png")), (1000, 650));
    draw(Kind::Panel, &runs, &out.join("panel.svg"), &opts).unwrap();
    let svg = std::fs::read_to_string(out.join("panel.svg")).unwrap();
    assert!(svg.contains("relative band error") && svg.contains("<image"));
    // Per-frequency measures: one row per target component.
    for m in [
        Measure::FpRelError,
        Measure::FpRelErrorMag,
        Measure::RahamanAmplitude,
    ] {
        let o = PlotOptions {
            measure: m,
            grid: "test".into(),
            ..PlotOptions::default()
        };
        let p = out.join(format!("{}.svg", m.column()));
        draw(Kind::Heatmap, std::slice::from_ref(&a), &p, &o).unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(
            svg.contains("k = 4 cyc") && svg.contains(m.column()),
            "{m:?}"
        );
    }
    // Seeds of one configuration are aggregated and the legend says so.
    let loss = bandwise::plot::from_record::loss_data(&runs).unwrap();
    assert_eq!(loss.band_label, "shaded: min-max over 2 seeds");
    assert_eq!(loss.series.len(), 2, "train and test of one configuration");
    assert!(loss.series[0].band.is_some());
    // The standard set.
    let w = standard_set(&a, &tmp.path().join("std"), Format::Png, &opts).unwrap();
    assert_eq!(w.files.len(), 4, "{:?}", w.skipped);
}

#[test]
fn diverged_run_renders_with_grey_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let d = make_run(
        &tmp.path().join("d"),
        &config("d", "name = \"sgd\"\nlr = 1e3", 0),
    );
    assert_eq!(d.status(), "diverged");
    let w = standard_set(
        &d,
        &tmp.path().join("f"),
        Format::Png,
        &PlotOptions::default(),
    )
    .unwrap();
    assert_eq!(w.files.len(), 4);
    for f in &w.files {
        png_size(f);
    }
    // Octave bands without target energy have an undefined relative error: grey cells.
    let (sw, sh, buf) = {
        let dec = png::Decoder::new(std::fs::File::open(&w.files[0]).unwrap());
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        (info.width, info.height, buf)
    };
    let grey = bandwise::plot::NAN_GREY;
    let found = buf
        .chunks(3)
        .take((sw * sh) as usize)
        .any(|p| p == [grey.0, grey.1, grey.2]);
    assert!(found, "no grey (undefined) cells in the diverged heatmap");
}

#[test]
fn binary_draws_the_standard_set_and_every_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sweep");
    make_run(&root.join("s0"), &config("s", PADAM, 0));
    make_run(&root.join("s1"), &config("s", PADAM, 1));
    let run = root.join("s0");
    let (ok, stdout, stderr) = bin(&[run.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    for f in ["heatmap.png", "curves.png", "loss.png", "snapshots.png"] {
        assert!(stdout.contains(f), "{stdout}");
        png_size(&run.join("figures").join(f));
    }
    for kind in ["heatmap", "curves", "snapshots", "loss", "panel"] {
        let out = tmp.path().join(format!("{kind}.png"));
        let dir = if kind == "panel" || kind == "loss" {
            &root
        } else {
            &run
        };
        let (ok, _, stderr) = bin(&[
            dir.to_str().unwrap(),
            "--kind",
            kind,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(ok, "{kind}: {stderr}");
        png_size(&out);
    }
    // A sweep directory is expanded: standard set per run plus panel and loss comparison.
    let (ok, stdout, stderr) = bin(&[root.to_str().unwrap(), "--format", "svg"]);
    assert!(ok, "{stderr}");
    assert!(root.join("figures/panel.svg").is_file(), "{stdout}");
    assert!(root.join("s1/figures/heatmap.svg").is_file(), "{stdout}");
}

#[test]
fn bad_input_gives_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let (ok, _, e) = bin(&[missing.to_str().unwrap()]);
    assert!(
        !ok && e.contains("does not exist") && e.contains("nope"),
        "{e}"
    );

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (ok, _, e) = bin(&[empty.to_str().unwrap()]);
    assert!(!ok && e.contains("no bandwise runs"), "{e}");

    let run = tmp.path().join("r");
    make_run(&run, &config("r", PADAM, 0));
    let (ok, _, e) = bin(&[run.to_str().unwrap(), "--kind", "violin"]);
    assert!(
        !ok && e.contains("invalid value 'violin'") && e.contains("heatmap"),
        "{e}"
    );

    let (ok, _, e) = bin(&[run.to_str().unwrap(), "--kind", "heatmap", "--out", "x.jpg"]);
    assert!(
        !ok && e.contains("x.jpg") && e.contains(".png or .svg"),
        "{e}"
    );
    assert!(!e.contains("stack backtrace"), "{e}");

    // A record without spectral data.
    std::fs::remove_file(run.join("bands.csv")).unwrap();
    let out = tmp.path().join("h.png");
    let (ok, _, e) = bin(&[
        run.to_str().unwrap(),
        "--kind",
        "heatmap",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok && e.contains("no spectral data (no bands.csv)"), "{e}");
    let (ok, _, e) = bin(&[run.to_str().unwrap(), "--kind", "curves"]);
    assert!(!ok && e.contains("bands.csv"), "{e}");
    // The standard set skips the per-band figures and says so.
    let (ok, _, e) = bin(&[run.to_str().unwrap()]);
    assert!(ok && e.contains("skipped heatmap"), "{e}");
}

/// Rendering the standard set of a 2000-epoch run: the issue asks for < 2 s in release; the
/// assertion is generous (debug builds, shared machines) and the time is printed.
#[test]
fn standard_set_of_a_long_run_is_fast() {
    let tmp = tempfile::tempdir().unwrap();
    let text = config("long", PADAM, 0)
        .replace("epochs = 30", "epochs = 2000")
        .replace("n = 32", "n = 64");
    let run = make_run(&tmp.path().join("long"), &text);
    let t = std::time::Instant::now();
    let w = standard_set(
        &run,
        &tmp.path().join("f"),
        Format::Png,
        &PlotOptions::default(),
    )
    .unwrap();
    let s = t.elapsed().as_secs_f64();
    println!(
        "standard set of a 2000-epoch run: {s:.3} s ({} files)",
        w.files.len()
    );
    assert!(s < 10.0, "{s} s");
}
