//! Shared look of every figure: the embedded DejaVu Sans font (registered once with plotters'
//! `ab_glyph` backend, so no fontconfig/freetype is needed at build or run time), font sizes,
//! series colours and small drawing helpers (text, rotated axis titles, legends).

use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::colourmap::viridis;
use crate::base::stats::positive_min_max;

/// Font family name under which the embedded font is registered.
pub const FAMILY: &str = "sans-serif";
/// Figure title size (px).
pub const TITLE_PX: f64 = 24.0;
/// Axis title size (px).
pub const AXIS_PX: f64 = 19.0;
/// Tick label size (px): at least 14 px at 1000 px width.
pub const TICK_PX: f64 = 16.0;
/// Caption / legend size (px).
pub const CAPTION_PX: f64 = 15.0;

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
static REGISTER: Once = Once::new();

/// Register the embedded DejaVu Sans (regular and bold) with plotters. Idempotent, thread-safe;
/// every public drawing function calls it.
pub fn ensure_fonts() {
    REGISTER.call_once(|| {
        // The bytes are a known-good TTF compiled into the binary: failure is a build bug.
        plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS)
            .unwrap_or_else(|_| panic!("embedded DejaVuSans.ttf failed to parse"));
        plotters::style::register_font(FAMILY, FontStyle::Bold, DEJAVU_SANS_BOLD)
            .unwrap_or_else(|_| panic!("embedded DejaVuSans-Bold.ttf failed to parse"));
    });
}

/// Regular text style of `px` pixels.
pub fn font(px: f64) -> TextStyle<'static> {
    (FAMILY, px).into_font().color(&BLACK)
}

/// Bold text style of `px` pixels.
pub fn bold(px: f64) -> TextStyle<'static> {
    (FAMILY, px, FontStyle::Bold).into_font().color(&BLACK)
}

/// Bold font at `px`, shrunk (down to 60 %) until `s` fits in `max_w` pixels: long titles
/// (optimizer labels with schedules) stay whole instead of running off the figure.
pub fn fit_bold<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    px: f64,
    max_w: u32,
) -> TextStyle<'static> {
    let mut size = px;
    while size > px * 0.6 {
        let w = area
            .estimate_text_size(s, &bold(size))
            .map(|(w, _)| w)
            .unwrap_or((s.chars().count() as f64 * size * 0.65) as u32);
        if w <= max_w {
            break;
        }
        size -= 1.0;
    }
    bold(size)
}

/// Colour of series `i` of `n` (viridis without its pale yellow end, which vanishes on white).
pub fn series_colour(i: usize, n: usize) -> RGBColor {
    let t = if n <= 1 {
        0.0
    } else {
        i as f64 / (n - 1) as f64
    };
    viridis(0.85 * t)
}

/// Qualitative colours for a few unrelated series (loss curves): Okabe-Ito palette.
pub fn qualitative(i: usize) -> RGBColor {
    const P: [RGBColor; 7] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(86, 180, 233),
        RGBColor(230, 159, 0),
        RGBColor(0, 0, 0),
    ];
    P[i % P.len()]
}

/// Map any plotters error into anyhow.
pub fn perr<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e:?}")
}

/// Draw `text` anchored at `(x, y)` with the given horizontal/vertical anchor.
pub fn text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    style: &TextStyle,
    (x, y): (i32, i32),
    h: HPos,
    v: VPos,
) -> Result<()> {
    area.draw(&Text::new(s.to_string(), (x, y), style.pos(Pos::new(h, v))))
        .map_err(perr)
}

/// Draw a figure's title: bold, shrunk to fit `width` - 20 px ([`fit_bold`]), centred at the
/// top.
pub fn title<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &str, width: u32) -> Result<()> {
    let style = fit_bold(area, s, TITLE_PX, width - 20);
    text(
        area,
        s,
        &style,
        (width as i32 / 2, 14),
        HPos::Center,
        VPos::Top,
    )
}

/// Draw a vertical (bottom-to-top) axis title centred at `(x, y)`.
pub fn vtext<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    px: f64,
    (x, y): (i32, i32),
) -> Result<()> {
    let style = font(px)
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(s.to_string(), (x, y), style))
        .map_err(perr)
}

/// Width in pixels of `s` at size `px` (for layout decisions).
pub fn text_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &str, px: f64) -> u32 {
    area.estimate_text_size(s, &font(px))
        .map(|(w, _)| w)
        .unwrap_or((s.chars().count() as f64 * px * 0.6) as u32)
}

/// One legend entry: a coloured line sample (solid or dashed, optionally a filled box behind
/// it for a shaded band) and its label.
pub struct LegendEntry {
    pub label: String,
    pub colour: RGBColor,
    pub dashed: bool,
    pub shaded: bool,
}

/// Draw a vertical legend with its top-left corner at `(x, y)`; returns the height used.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    (x, y): (i32, i32),
) -> Result<i32> {
    let row = (CAPTION_PX * 1.5) as i32;
    for (i, e) in entries.iter().enumerate() {
        let cy = y + row * i as i32 + row / 2;
        if e.shaded {
            area.draw(&Rectangle::new(
                [(x, cy - 7), (x + 30, cy + 7)],
                e.colour.mix(0.2).filled(),
            ))
            .map_err(perr)?;
        }
        if e.dashed {
            for k in 0..3 {
                let x0 = x + k * 11;
                area.draw(&PathElement::new(
                    vec![(x0, cy), (x0 + 7, cy)],
                    e.colour.stroke_width(2),
                ))
                .map_err(perr)?;
            }
        } else {
            area.draw(&PathElement::new(
                vec![(x, cy), (x + 30, cy)],
                e.colour.stroke_width(2),
            ))
            .map_err(perr)?;
        }
        text(
            area,
            &e.label,
            &font(CAPTION_PX),
            (x + 38, cy),
            HPos::Left,
            VPos::Center,
        )?;
    }
    Ok(row * entries.len() as i32)
}

/// Format a tick value compactly: integers without decimals, small/large numbers in
/// scientific notation ("1e-3").
pub fn fmt_tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-2..1e5).contains(&a) {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        if (m.abs() - 1.0).abs() < 1e-9 {
            return format!("{}1e{}", if v < 0.0 { "-" } else { "" }, e as i32);
        }
        return format!("{m:.1}e{}", e as i32);
    }
    if (v - v.round()).abs() < 1e-9 {
        return format!("{}", v.round() as i64);
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Finite, strictly positive min/max of the given values (for log axes), padded by a
/// fraction of a decade; `None` if there is no such value.
pub fn log_range<'a>(values: impl IntoIterator<Item = &'a f64>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = positive_min_max(values)?;
    if hi / lo < 10.0 {
        let mid = (hi * lo).sqrt();
        lo = lo.min(mid / 10f64.sqrt());
        hi = hi.max(mid * 10f64.sqrt());
    }
    Some((lo / 1.25, hi * 1.25))
}

/// Finite min/max of the values, padded by 5 % (a flat series gets +-0.5 or +-5 %).
pub fn lin_range<'a>(values: impl IntoIterator<Item = &'a f64>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in values {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        return None;
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let d = if lo == 0.0 { 0.5 } else { 0.05 * lo.abs() };
        return Some((lo - d, hi + d));
    }
    let pad = 0.05 * (hi - lo);
    Some((lo - pad, hi + pad))
}

/// Split `(x, y)` points into runs of consecutive points that `keep` accepts (so a line breaks
/// at NaN / non-positive values instead of jumping across them).
pub fn runs(xs: &[f64], ys: &[f64], keep: impl Fn(f64) -> bool) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for (&x, &y) in xs.iter().zip(ys) {
        if x.is_finite() && keep(y) {
            cur.push((x, y));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Draw the runs of `(xs, ys)` that `keep` accepts ([`runs`]) as lines of `style`: solid,
/// or dashed with `dash` = (dash, gap) px.
pub fn draw_runs<DB: DrawingBackend, CT: plotters::coord::CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    (xs, ys): (&[f64], &[f64]),
    keep: impl Fn(f64) -> bool,
    style: ShapeStyle,
    dash: Option<(u32, u32)>,
) -> Result<()> {
    for run in runs(xs, ys, keep) {
        match dash {
            Some((size, gap)) => chart.draw_series(DashedLineSeries::new(run, size, gap, style)),
            None => chart.draw_series(LineSeries::new(run, style)),
        }
        .map_err(perr)?;
    }
    Ok(())
}

/// A chart with a linear x axis and a log y axis (ticks from [`log_ticks`]).
pub type LogYChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::combinators::WithKeyPoints<plotters::coord::combinators::LogCoord<f64>>,
    >,
>;

/// Labelled (bold) and grid-only (light) ticks of a log axis over `[lo, hi]`: powers of 10
/// (every k-th decade, at most about 9 labels) with 2..9 x 10^k as light lines; under 1.5
/// decades, where at most one power of 10 falls inside, 1-2-5 x 10^k labelled (1..9 x 10^k
/// under half a decade).
pub fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return (Vec::new(), Vec::new());
    }
    let decades = (hi / lo).log10();
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    // m x 10^k rounded once (0.6, not 6 x 0.1 = 0.6000000000000001).
    let pow10 = |m: f64, k: i32| {
        if k < 0 {
            m / 10f64.powi(-k)
        } else {
            m * 10f64.powi(k)
        }
    };
    let inside = |v: &f64| *v >= lo * (1.0 - 1e-12) && *v <= hi * (1.0 + 1e-12);
    let multiples = |ms: &[f64]| -> Vec<f64> {
        (k0..=k1)
            .flat_map(|k| ms.iter().map(move |&m| pow10(m, k)))
            .filter(inside)
            .collect()
    };
    let light = multiples(&[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    if decades < 0.5 {
        let all = multiples(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        return (all, Vec::new());
    }
    if decades < 1.5 {
        return (multiples(&[1.0, 2.0, 5.0]), light);
    }
    let powers: Vec<i32> = (k0..=k1).filter(|&k| inside(&pow10(1.0, k))).collect();
    let step = powers.len().div_ceil(9).max(1);
    let bold = powers
        .iter()
        .step_by(step)
        .map(|&k| pow10(1.0, k))
        .collect();
    (bold, if decades < 6.0 { light } else { Vec::new() })
}

/// The chart's part of a figure of `(width, height)` px with a legend at its right side:
/// below `top` px (the title), above `bottom` px (the caption), left of `legend_w` px.
pub fn chart_area<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (width, height): (u32, u32),
    top: i32,
    bottom: i32,
    legend_w: i32,
) -> DrawingArea<DB, Shift> {
    let (w, h) = (width as i32 - legend_w, height as i32 - top - bottom);
    root.clone().shrink((0, top), (w as u32, h as u32))
}

/// The linear-x, log-y chart every log-y figure uses (curves, loss, the kernel figures): built
/// on `area` with `x_area` px under it for ticks and `x_desc`, `y_area` px left of it for the
/// ticks (the caller draws the y title with [`vtext`]), and the shared mesh style.
pub fn log_y_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    (xlo, xhi): (f64, f64),
    (ylo, yhi): (f64, f64),
    x_desc: &str,
    (x_area, y_area): (u32, u32),
) -> Result<LogYChart<'a, DB>> {
    use plotters::coord::combinators::BindKeyPoints;
    use plotters::coord::combinators::LogCoord;
    let (bold, light) = log_ticks(ylo, yhi);
    let y: LogCoord<f64> = (ylo..yhi).log_scale().into();
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(xlo..xhi, y.with_key_points(bold).with_light_points(light))
        .map_err(perr)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .x_labels(8)
        .x_label_formatter(&|v| fmt_tick(*v))
        .y_label_formatter(&|v| fmt_tick(*v))
        .label_style(font(TICK_PX))
        .axis_desc_style(font(AXIS_PX))
        .light_line_style(RGBColor(245, 245, 245))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()
        .map_err(perr)?;
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_format() {
        assert_eq!(fmt_tick(0.001), "1e-3");
        assert_eq!(fmt_tick(1000.0), "1000");
        assert_eq!(fmt_tick(0.25), "0.25");
        assert_eq!(fmt_tick(-0.5), "-0.5");
        assert_eq!(fmt_tick(2e-4), "2.0e-4");
    }

    #[test]
    fn runs_break_at_nan() {
        let r = runs(&[0., 1., 2., 3.], &[1., f64::NAN, 2., 3.], |v| {
            v.is_finite()
        });
        assert_eq!(r, vec![vec![(0., 1.)], vec![(2., 2.), (3., 3.)]]);
    }

    #[test]
    fn log_ticks_label_decades_or_1_2_5_on_narrow_ranges() {
        let (bold, light) = log_ticks(1e-4, 1.0);
        assert_eq!(bold, vec![1e-4, 1e-3, 1e-2, 1e-1, 1.0]);
        assert!(light.contains(&2e-4) && light.contains(&0.5));
        let (bold, _) = log_ticks(0.27, 3.4);
        assert_eq!(bold, vec![0.5, 1.0, 2.0]);
        let (bold, _) = log_ticks(0.55, 1.3);
        assert_eq!(bold, vec![0.6, 0.7, 0.8, 0.9, 1.0]);
        // Twelve decades: every other one labelled, no light lines.
        let (bold, light) = log_ticks(1e-12, 1.0);
        assert_eq!(bold.len(), 7);
        assert!(light.is_empty());
        assert_eq!(log_ticks(0.0, 1.0), (vec![], vec![]));
    }

    #[test]
    fn log_range_pads_and_ignores_bad_values() {
        let (lo, hi) = log_range(&[0.0, -1.0, f64::NAN, 1e-3, 1.0]).unwrap();
        assert!(lo < 1e-3 && hi > 1.0);
        assert!(log_range(&[0.0, f64::NAN]).is_none());
    }
}
