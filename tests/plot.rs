//! Integration tests of the plot module: every figure kind renders, PNGs decode with the
//! expected size, heatmap pixels match the colour map, SVGs carry their text, errors are clear.

use std::f64::consts::PI;
use std::path::Path;

use bandwise::plot::*;

fn band_labels(n: usize) -> Vec<String> {
    (0..n)
        .map(|b| {
            let lo = 1usize << b;
            let hi = (1usize << (b + 1)) - 1;
            if lo == hi {
                format!("{lo} cyc")
            } else {
                format!("{lo}-{hi} cyc")
            }
        })
        .collect()
}

/// Synthetic relative band errors: band b converges at rate ~ 1/(b+1) (spectral bias), plus a
/// cyclic p(t) strip and a log lr(t) strip.
pub fn synthetic_heatmap(n_epochs: usize, n_bands: usize, strips: bool) -> HeatmapData {
    let epochs: Vec<f64> = (0..n_epochs).map(|e| e as f64).collect();
    let values = (0..n_bands)
        .map(|b| {
            epochs
                .iter()
                .map(|&e| {
                    let rate = 8.0 / n_epochs as f64 / (1.0 + b as f64).powf(1.2);
                    ((-rate * e).exp() * (1.0 + 0.1 * (e / 37.0 + b as f64).sin())).max(1e-7)
                })
                .collect()
        })
        .collect();
    let strips = if strips {
        vec![
            Strip {
                label: "p(t)".into(),
                values: epochs
                    .iter()
                    .map(|&e| 0.25 + 0.25 * (2.0 * PI * e / (n_epochs as f64 / 4.0)).cos())
                    .collect(),
                log: false,
            },
            Strip {
                label: "lr(t)".into(),
                values: epochs
                    .iter()
                    .map(|&e| 1e-3 * (-(e / n_epochs as f64) * 3.0).exp())
                    .collect(),
                log: true,
            },
        ]
    } else {
        vec![]
    };
    HeatmapData {
        title: "Relative band error, PAdam cyclic p(t) in [0, 0.5], seed 0 (synthetic)".into(),
        caption: "E_b(r)/E_b(y): residual energy in band b divided by the target's energy in band b (Parseval-consistent, unnormalised DFT).".into(),
        epochs,
        band_labels: band_labels(n_bands),
        values,
        value_label: "relative band error E_b(r)/E_b(y)".into(),
        row_label: String::new(),
        col_label: String::new(),
        strips,
    }
}

fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn pixel(img: &(u32, u32, Vec<u8>), (x, y): (i32, i32)) -> [u8; 3] {
    let o = (y as usize * img.0 as usize + x as usize) * 3;
    [img.2[o], img.2[o + 1], img.2[o + 2]]
}

#[test]
fn heatmap_png_pixels_match_colour_map() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = synthetic_heatmap(60, 8, true);
    d.values[3][10] = f64::NAN;
    let scale = ColourScale::log(1e-4, 1.0);
    let path = dir.path().join("h.png");
    heatmap(&path, &d, &scale).unwrap();
    let layout = heatmap_layout(&d).unwrap();
    let img = decode(&path);
    assert_eq!((img.0, img.1), layout.size);
    for (band, e) in [(0, 0), (7, 59), (2, 30), (5, 45)] {
        let c = scale.colour(d.values[band][e]);
        assert_eq!(
            pixel(&img, layout.cell_pixel(&d, band, e)),
            [c.0, c.1, c.2],
            "cell ({band}, {e})"
        );
    }
    let g = NAN_GREY;
    assert_eq!(pixel(&img, layout.cell_pixel(&d, 3, 10)), [g.0, g.1, g.2]);
}

fn synthetic_curves(d: &HeatmapData) -> CurvesData {
    CurvesData {
        title: "Relative band error per band, PAdam cyclic p(t), seed 0 (synthetic)".into(),
        caption: "E_b(r)/E_b(y) per band; dashed: convergence threshold used by the report.".into(),
        y_label: String::new(),
        epochs: d.epochs.clone(),
        curves: d
            .band_labels
            .iter()
            .zip(&d.values)
            .map(|(l, v)| Curve {
                label: l.clone(),
                values: v.clone(),
            })
            .collect(),
        thresholds: vec![Threshold {
            label: "converged: 1e-2".into(),
            value: 1e-2,
        }],
    }
}

fn synthetic_loss(n: usize) -> LossData {
    let epochs: Vec<f64> = (0..n).map(|e| e as f64).collect();
    let mut series = Vec::new();
    for (k, (name, rate)) in [
        ("Adam (p = 0.5)", 3.0f64),
        ("PAdam p = 0.25", 4.0),
        ("PAdam cyclic p", 5.0f64),
    ]
    .iter()
    .enumerate()
    {
        for (test, off) in [(false, 1.0), (true, 1.3)] {
            let mean: Vec<f64> = epochs
                .iter()
                .map(|&e| off * (-rate * e / n as f64).exp() * 0.5 + 1e-4)
                .collect();
            let lo = mean.iter().map(|m| m * 0.7).collect();
            let hi = mean.iter().map(|m| m * 1.4).collect();
            series.push(LossSeries {
                label: format!("{name} {}", if test { "test" } else { "train" }),
                epochs: epochs.clone(),
                mean,
                band: (!test).then_some((lo, hi)),
                dashed: test,
                colour: k,
            });
        }
    }
    LossData {
        title: "Train/test loss, Adam vs PAdam (synthetic)".into(),
        caption: "Mean over 5 seeds; train solid, test dashed.".into(),
        y_label: String::new(),
        band_label: "shaded: min-max over 5 seeds".into(),
        series,
        marks: vec![],
    }
}

fn synthetic_snapshots() -> SnapshotData {
    let n = 256;
    let t: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
    let target: Vec<f64> = t
        .iter()
        .map(|&t| {
            (2.0 * PI * t).sin()
                + 0.5 * (2.0 * PI * 5.0 * t).sin()
                + 0.25 * (2.0 * PI * 20.0 * t).sin()
        })
        .collect();
    let snapshots = [10.0, 100.0, 500.0, 2000.0]
        .iter()
        .map(|&e: &f64| {
            let keep = |f: f64| 1.0 - (-e / (30.0 * f)).exp();
            let prediction: Vec<f64> = t
                .iter()
                .map(|&t| {
                    keep(1.0) * (2.0 * PI * t).sin()
                        + keep(5.0) * 0.5 * (2.0 * PI * 5.0 * t).sin()
                        + keep(20.0) * 0.25 * (2.0 * PI * 20.0 * t).sin()
                })
                .collect();
            let mut spectrum = vec![1e-6; n / 2 + 1];
            spectrum[1] = (1.0 - keep(1.0)) * n as f64 / 2.0 + 1e-6;
            spectrum[5] = (1.0 - keep(5.0)) * 0.5 * n as f64 / 2.0 + 1e-6;
            spectrum[20] = (1.0 - keep(20.0)) * 0.25 * n as f64 / 2.0 + 1e-6;
            Snapshot {
                epoch: e,
                prediction,
                spectrum,
            }
        })
        .collect();
    SnapshotData {
        title: "Fit snapshots, PAdam p = 0.25, seed 0 (synthetic)".into(),
        caption: "Target sin(2 pi t) + 0.5 sin(2 pi 5t) + 0.25 sin(2 pi 20t); |R_k| from the unnormalised DFT of the residual.".into(),
        t,
        target,
        snapshots,
    }
}

fn synthetic_panels(n_epochs: usize) -> Vec<HeatmapData> {
    [
        "p = -0.5",
        "p = -0.25",
        "p = 0 (SGD-like)",
        "p = 0.25",
        "p = 0.5 (Adam)",
        "cyclic p(t)",
    ]
    .iter()
    .enumerate()
    .map(|(i, name)| {
        let mut d = synthetic_heatmap(n_epochs, 10, i == 5);
        d.strips.truncate(1);
        for (b, row) in d.values.iter_mut().enumerate() {
            for v in row.iter_mut() {
                *v = v.powf(0.4 + 0.25 * i as f64 * (1.0 + b as f64 / 10.0));
            }
        }
        d.title = format!("PAdam {name}");
        d
    })
    .collect()
}

/// Render all five kinds for a 2000-epoch x 10-band record into `dir` (returns elapsed time).
fn render_all(dir: &Path, ext: &str) -> std::time::Duration {
    let start = std::time::Instant::now();
    let d = synthetic_heatmap(2000, 10, true);
    let scale = ColourScale::log_fit(d.values.iter().flatten());
    heatmap(&dir.join(format!("heatmap.{ext}")), &d, &scale).unwrap();
    let panels = synthetic_panels(2000);
    let pscale = ColourScale::log_fit(panels.iter().flat_map(|p| p.values.iter().flatten()));
    panel(
        &dir.join(format!("panel.{ext}")),
        &panels,
        &pscale,
        "Relative band error across the PAdam family, seed 0 (synthetic)",
    )
    .unwrap();
    curves(&dir.join(format!("curves.{ext}")), &synthetic_curves(&d)).unwrap();
    loss(&dir.join(format!("loss.{ext}")), &synthetic_loss(2000)).unwrap();
    snapshots(
        &dir.join(format!("snapshots.{ext}")),
        &synthetic_snapshots(),
    )
    .unwrap();
    start.elapsed()
}

#[test]
fn all_kinds_render_png_with_expected_size_fast() {
    let dir = tempfile::tempdir().unwrap();
    let elapsed = render_all(dir.path(), "png");
    assert!(
        elapsed.as_secs_f64() < 2.0,
        "rendering five figures took {elapsed:?}"
    );
    for (name, w, h) in [("heatmap", 1000, 772), ("curves", 1000, 650)] {
        let img = decode(&dir.path().join(format!("{name}.png")));
        assert_eq!((img.0, img.1), (w, h), "{name}");
    }
    // The loss figure's legend column widens with its longest label.
    let loss = decode(&dir.path().join("loss.png"));
    assert!(
        loss.0 >= 1000 && loss.1 == 650,
        "loss: {}x{}",
        loss.0,
        loss.1
    );
    for name in ["panel", "snapshots"] {
        let img = decode(&dir.path().join(format!("{name}.png")));
        assert!(img.0 >= 1000 && img.1 >= 500, "{name}: {}x{}", img.0, img.1);
    }
}

#[test]
fn svg_contains_axis_titles_and_colour_bar_label() {
    let dir = tempfile::tempdir().unwrap();
    render_all(dir.path(), "svg");
    let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
    let h = read("heatmap.svg");
    assert!(h.starts_with("<svg") && h.trim_end().ends_with("</svg>"));
    for s in [
        "epoch",
        "frequency band (cycles per unit length)",
        "relative band error E_b(r)/E_b(y)",
        "p(t)",
        "data:image/png;base64,",
    ] {
        assert!(h.contains(s), "heatmap.svg lacks {s:?}");
    }
    assert!(read("panel.svg").contains("relative band error E_b(r)/E_b(y)"));
    assert!(read("curves.svg").contains("relative error"));
    assert!(read("loss.svg").contains("shaded: min-max over 5 seeds"));
    let s = read("snapshots.svg");
    assert!(s.contains("|R_k|") && s.contains("frequency k (cycles per unit length)"));
}

#[test]
fn large_svg_heatmap_is_small() {
    let dir = tempfile::tempdir().unwrap();
    let d = synthetic_heatmap(5000, 20, false);
    let path = dir.path().join("big.svg");
    heatmap(&path, &d, &ColourScale::log(1e-4, 1.0)).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len < 300_000, "5000 x 20 SVG heatmap is {len} bytes");
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("Epochs downsampled"));
}

#[test]
fn nan_only_heatmap_renders_grey() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = synthetic_heatmap(20, 3, false);
    for row in &mut d.values {
        row.iter_mut().for_each(|v| *v = f64::NAN);
    }
    let path = dir.path().join("nan.png");
    heatmap(&path, &d, &ColourScale::linear(0.0, 1.0)).unwrap();
    let layout = heatmap_layout(&d).unwrap();
    let img = decode(&path);
    assert_eq!(
        pixel(&img, layout.cell_pixel(&d, 1, 7)),
        [NAN_GREY.0, NAN_GREY.1, NAN_GREY.2]
    );
}

#[test]
fn empty_data_and_bad_extension_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let scale = ColourScale::log(1e-4, 1.0);
    let mut d = synthetic_heatmap(10, 3, false);
    let e = heatmap(&dir.path().join("x.jpg"), &d, &scale)
        .unwrap_err()
        .to_string();
    assert!(e.contains(".png or .svg"), "{e}");
    d.epochs.clear();
    let e = heatmap(&dir.path().join("x.png"), &d, &scale)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no epochs"), "{e}");
    let mut d = synthetic_heatmap(10, 3, false);
    d.band_labels.clear();
    d.values.clear();
    let e = heatmap(&dir.path().join("x.png"), &d, &scale)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no bands"), "{e}");
    let e = panel(&dir.path().join("p.png"), &[], &scale, "t")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no heatmaps"), "{e}");
    let mut c = synthetic_curves(&synthetic_heatmap(10, 3, false));
    c.epochs.clear();
    assert!(curves(&dir.path().join("c.png"), &c)
        .unwrap_err()
        .to_string()
        .contains("no epochs"));
    let l = LossData {
        series: vec![],
        ..Default::default()
    };
    assert!(loss(&dir.path().join("l.png"), &l)
        .unwrap_err()
        .to_string()
        .contains("no series"));
    let s = SnapshotData {
        snapshots: vec![],
        ..synthetic_snapshots()
    };
    assert!(snapshots(&dir.path().join("s.png"), &s)
        .unwrap_err()
        .to_string()
        .contains("no snapshots"));
    assert!(!dir.path().join("x.png").exists());
}

#[test]
#[ignore = "writes the committed example figures; run with --ignored to refresh them"]
fn render_examples() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("figures/examples/synthetic");
    render_all(&out, "png");
}
