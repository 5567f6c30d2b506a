//! Dot-and-whisker figures of a per-configuration quantity (the number a claim's verdict is
//! decided on): each configuration is a point estimate with its 95% interval, its seed count
//! and diverged count; baselines are drawn as bands of their interval. Two layouts:
//! [`Layout::Numeric`] puts the configurations at a numeric x (e.g. p, for C2's index
//! against p) with the quantity on y; [`Layout::Rows`] gives each configuration a row
//! (labelled on the left) with the quantity on x (C3's coverage score, C6's time to L*).
//! Seeds that never reach a level (time-like quantities) are counted in [`EstimatePoint::never`]
//! and drawn as a "never" marker at the far end of the value axis.
//!
//! The data is plain: adapters from reports live in [`super::from_report`].

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::heatmap::draw_caption;
use super::style::{
    self, fmt_tick, font, legend, perr, qualitative, text, LegendEntry, AXIS_PX, CAPTION_PX,
    TICK_PX,
};
use super::{render, Figure, Raster};

/// One configuration: a point estimate with its interval.
#[derive(Clone, Debug, PartialEq)]
pub struct EstimatePoint {
    /// Row label (Rows layout) or tooltip-like label next to the point (Numeric layout).
    pub label: String,
    /// Series this point belongs to (colour and legend entry), e.g. "index" or "slope at 10%".
    pub series: String,
    /// Position on the x axis (Numeric layout; ignored by Rows).
    pub x: f64,
    /// Point estimate; NaN = undefined (e.g. no seed reached the level).
    pub mean: f64,
    /// 95% interval; NaN ends = no interval (fewer than two values).
    pub lo: f64,
    pub hi: f64,
    /// Seeds the estimate uses.
    pub n: usize,
    /// Seeds that diverged (counted, never silently dropped).
    pub n_diverged: usize,
    /// Seeds that never reached the level (time-like quantities); drawn as a "never" marker.
    pub never: usize,
}

impl EstimatePoint {
    /// All seeds of this configuration (used, diverged, never reached).
    pub fn seeds(&self) -> usize {
        self.n + self.n_diverged + self.never
    }

    /// "n=3, 1 diverged, 2 never": the counts shown beside the point.
    pub fn counts(&self) -> String {
        let mut s = format!("n={}", self.n);
        if self.n_diverged > 0 {
            s += &format!(", {} diverged", self.n_diverged);
        }
        if self.never > 0 {
            s += &format!(", {} never", self.never);
        }
        s
    }
}

/// A baseline drawn across the whole plot as the band of its interval, with its mean as a
/// dashed line.
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineBand {
    pub label: String,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Where the configurations sit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Layout {
    /// Configurations at a numeric x; the quantity on y.
    #[default]
    Numeric,
    /// One row per configuration; the quantity on x.
    Rows,
}

/// Everything an estimates figure shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EstimatesData {
    pub title: String,
    pub caption: String,
    pub layout: Layout,
    /// Title of the position axis (Numeric: e.g. "p (fixed exponent)"; Rows: unused).
    pub position_label: String,
    /// Title of the value axis, with units.
    pub value_label: String,
    pub points: Vec<EstimatePoint>,
    pub bands: Vec<BaselineBand>,
    /// A reference value drawn as a line (e.g. 0.25 of the baseline budget), with its label.
    pub reference: Option<(f64, String)>,
    /// Lowest meaningful value (e.g. 0 for a time): the axis starts no lower and intervals
    /// are cut there (the caption should say so).
    pub floor: Option<f64>,
}

const W: u32 = 1000;
const TOP: i32 = 60;
const AXIS_AREA: i32 = 58;
const LEFT_NUMERIC: i32 = 95;
const ROW_H: i32 = 46;
const LEGEND_MIN: i32 = 200;
const NEVER: &str = "never";

/// Draw `data` into `path` (.png or .svg). Errors on no points, or no finite value at all.
pub fn estimates(path: &Path, data: &EstimatesData) -> Result<()> {
    super::Format::from_path(path)?;
    if data.points.is_empty() {
        bail!(
            "estimates figure {:?}: no configurations to plot (points is empty)",
            data.title
        );
    }
    if value_range(data).is_none() {
        bail!(
            "estimates figure {:?}: no finite estimate, interval, baseline or reference to plot",
            data.title
        );
    }
    render(path, &EstimatesFigure(data))
}

/// The value axis range: every finite mean, interval end, band and reference, padded.
pub fn value_range(data: &EstimatesData) -> Option<(f64, f64)> {
    let mut vs: Vec<f64> = Vec::new();
    for p in &data.points {
        vs.extend([p.mean, p.lo, p.hi]);
    }
    for b in &data.bands {
        vs.extend([b.mean, b.lo, b.hi]);
    }
    if let Some((r, _)) = &data.reference {
        vs.push(*r);
    }
    let (lo, hi) = style::lin_range(&vs)?;
    Some(match data.floor {
        Some(f) if lo < f && hi > f => (f, hi),
        _ => (lo, hi),
    })
}

/// Distinct series names in order of first appearance.
fn series_names(data: &EstimatesData) -> Vec<String> {
    let mut s: Vec<String> = Vec::new();
    for p in &data.points {
        if !s.contains(&p.series) {
            s.push(p.series.clone());
        }
    }
    s
}

/// Band colours: grey-blue and grey-orange tints, distinct from the series colours.
fn band_colour(i: usize) -> RGBColor {
    const B: [RGBColor; 4] = [
        RGBColor(90, 90, 90),
        RGBColor(170, 110, 40),
        RGBColor(60, 120, 160),
        RGBColor(150, 60, 120),
    ];
    B[i % B.len()]
}

struct EstimatesFigure<'a>(&'a EstimatesData);

impl EstimatesFigure<'_> {
    fn legend_entries(&self) -> Vec<LegendEntry> {
        let d = self.0;
        let names = series_names(d);
        let mut e: Vec<LegendEntry> = Vec::new();
        if names.len() > 1 || !names[0].is_empty() {
            for (i, s) in names.iter().enumerate() {
                e.push(LegendEntry {
                    label: s.clone(),
                    colour: qualitative(i),
                    dashed: false,
                    shaded: false,
                });
            }
        }
        for (i, b) in d.bands.iter().enumerate() {
            e.push(LegendEntry {
                label: b.label.clone(),
                colour: band_colour(i),
                dashed: true,
                shaded: true,
            });
        }
        if let Some((_, l)) = &d.reference {
            e.push(LegendEntry {
                label: l.clone(),
                colour: RGBColor(200, 30, 30),
                dashed: false,
                shaded: false,
            });
        }
        e
    }

    fn legend_w(&self) -> i32 {
        let longest = self
            .legend_entries()
            .iter()
            .map(|e| e.label.chars().count())
            .max()
            .unwrap_or(0);
        if longest == 0 {
            20
        } else {
            LEGEND_MIN.max(50 + (longest as f64 * 8.5) as i32)
        }
    }

    /// Width of the row-label column (Rows layout), estimated from the label lengths.
    fn left(&self) -> i32 {
        match self.0.layout {
            Layout::Numeric => LEFT_NUMERIC,
            Layout::Rows => {
                let longest = self
                    .0
                    .points
                    .iter()
                    .map(|p| p.label.chars().count().max(p.counts().chars().count()))
                    .max()
                    .unwrap_or(0);
                (30 + (longest as f64 * 8.6) as i32).clamp(140, 420)
            }
        }
    }

    fn caption_h(&self) -> i32 {
        let chars = self.0.caption.chars().count() as f64;
        let per_line = ((self.width() as f64 - 40.0) / 8.0).max(20.0);
        let lines = (chars / per_line).ceil() as i32 + self.0.caption.matches('\n').count() as i32;
        (lines.max(1) as f64 * CAPTION_PX * 1.35) as i32 + 16
    }

    fn width(&self) -> u32 {
        W + self.legend_w() as u32
            + match self.0.layout {
                Layout::Rows => self.left().saturating_sub(LEFT_NUMERIC) as u32,
                Layout::Numeric => 0,
            }
    }

    fn plot_h(&self) -> i32 {
        match self.0.layout {
            Layout::Numeric => 460,
            Layout::Rows => (self.0.points.len() as i32 * ROW_H + 20).max(280),
        }
    }
}

impl Figure for EstimatesFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (
            self.width(),
            (TOP + self.plot_h() + AXIS_AREA + self.caption_h()) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        let (width, height) = self.size();
        style::title(root, &d.title, width)?;
        let left = self.left();
        let legend_w = self.legend_w();
        let plot_w = width as i32 - left - legend_w - 10;
        let area = root.clone().shrink(
            (0, TOP),
            ((left + plot_w) as u32, (self.plot_h() + AXIS_AREA) as u32),
        );
        let (vlo, vhi) = value_range(d).expect("checked in estimates()");
        let names = series_names(d);
        let colour_of =
            |p: &EstimatePoint| qualitative(names.iter().position(|s| *s == p.series).unwrap_or(0));
        let ok = |v: f64| v.is_finite();
        match d.layout {
            Layout::Numeric => {
                let xs: Vec<f64> = d.points.iter().map(|p| p.x).collect();
                let (xlo, xhi) = style::lin_range(&xs).unwrap_or((0.0, 1.0));
                let pad = 0.08 * (xhi - xlo);
                let (xlo, xhi) = (xlo - pad, xhi + pad);
                // Room at the top for "never" markers.
                let vhi_plot = vhi + 0.06 * (vhi - vlo);
                let mut chart = ChartBuilder::on(&area)
                    .x_label_area_size(AXIS_AREA as u32)
                    .y_label_area_size(left as u32)
                    .build_cartesian_2d(xlo..xhi, vlo..vhi_plot)
                    .map_err(perr)?;
                mesh(&mut chart, &d.position_label, "")?;
                for (i, b) in d.bands.iter().enumerate() {
                    let c = band_colour(i);
                    if ok(b.lo) && ok(b.hi) {
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(xlo, b.lo), (xhi, b.hi)],
                                c.mix(0.15).filled(),
                            )))
                            .map_err(perr)?;
                    }
                    if ok(b.mean) {
                        chart
                            .draw_series(DashedLineSeries::new(
                                vec![(xlo, b.mean), (xhi, b.mean)],
                                8,
                                5,
                                c.stroke_width(2),
                            ))
                            .map_err(perr)?;
                    }
                }
                if let Some((r, _)) = &d.reference {
                    chart
                        .draw_series(LineSeries::new(
                            vec![(xlo, *r), (xhi, *r)],
                            RGBColor(200, 30, 30).stroke_width(2),
                        ))
                        .map_err(perr)?;
                }
                // Dodge series sideways so their whiskers do not overlap.
                let dodge = 0.012 * (xhi - xlo);
                for p in &d.points {
                    let si = names.iter().position(|s| *s == p.series).unwrap_or(0) as f64;
                    let x = p.x + dodge * (si - (names.len() as f64 - 1.0) / 2.0);
                    let c = colour_of(p);
                    if ok(p.lo) && ok(p.hi) {
                        let w = 0.4 * dodge.max(0.004 * (xhi - xlo));
                        chart
                            .draw_series([
                                PathElement::new(vec![(x, p.lo), (x, p.hi)], c.stroke_width(2)),
                                PathElement::new(
                                    vec![(x - w, p.lo), (x + w, p.lo)],
                                    c.stroke_width(2),
                                ),
                                PathElement::new(
                                    vec![(x - w, p.hi), (x + w, p.hi)],
                                    c.stroke_width(2),
                                ),
                            ])
                            .map_err(perr)?;
                    }
                    let (px, py) = if ok(p.mean) {
                        chart
                            .draw_series(std::iter::once(Circle::new((x, p.mean), 6, c.filled())))
                            .map_err(perr)?;
                        chart.backend_coord(&(x, p.mean))
                    } else {
                        // Undefined estimate: a hollow triangle at the top edge.
                        let (px, py) = chart.backend_coord(&(x, vhi_plot));
                        root.draw(&TriangleMarker::new((px, py + 10), 8, c.stroke_width(2)))
                            .map_err(perr)?;
                        let why = if p.never > 0 {
                            NEVER
                        } else if p.n == 0 && p.n_diverged > 0 {
                            "all diverged"
                        } else {
                            "undefined"
                        };
                        text(
                            root,
                            why,
                            &font(CAPTION_PX),
                            (px + 12, py + 10),
                            HPos::Left,
                            VPos::Center,
                        )?;
                        (px, py + 40)
                    };
                    if p.n_diverged > 0 || p.never > 0 || p.n < 2 {
                        text(
                            root,
                            &p.counts(),
                            &font(CAPTION_PX).color(&RGBColor(80, 80, 80)),
                            (px + 10, py - 4),
                            HPos::Left,
                            VPos::Bottom,
                        )?;
                    }
                }
                let (_, py) = chart.plotting_area().get_pixel_range();
                style::vtext(root, &d.value_label, AXIS_PX, (16, (py.start + py.end) / 2))?;
            }
            Layout::Rows => {
                let n = d.points.len() as f64;
                // Room at the right for "never" markers.
                let has_never = d.points.iter().any(|p| p.never > 0);
                let vhi_plot = if has_never {
                    vhi + 0.12 * (vhi - vlo)
                } else {
                    vhi
                };
                let mut chart = ChartBuilder::on(&area)
                    .x_label_area_size(AXIS_AREA as u32)
                    .y_label_area_size(left as u32)
                    .build_cartesian_2d(vlo..vhi_plot, -0.5..n - 0.5)
                    .map_err(perr)?;
                mesh(&mut chart, &d.value_label, "rows")?;
                for (i, b) in d.bands.iter().enumerate() {
                    let c = band_colour(i);
                    if ok(b.lo) && ok(b.hi) {
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(b.lo, -0.5), (b.hi, n - 0.5)],
                                c.mix(0.15).filled(),
                            )))
                            .map_err(perr)?;
                    }
                    if ok(b.mean) {
                        chart
                            .draw_series(DashedLineSeries::new(
                                vec![(b.mean, -0.5), (b.mean, n - 0.5)],
                                8,
                                5,
                                c.stroke_width(2),
                            ))
                            .map_err(perr)?;
                    }
                }
                if let Some((r, _)) = &d.reference {
                    chart
                        .draw_series(LineSeries::new(
                            vec![(*r, -0.5), (*r, n - 0.5)],
                            RGBColor(200, 30, 30).stroke_width(2),
                        ))
                        .map_err(perr)?;
                }
                let (px_range, _) = chart.plotting_area().get_pixel_range();
                let cut = |v: f64| v.max(vlo);
                for (i, p) in d.points.iter().enumerate() {
                    let y = n - 1.0 - i as f64;
                    let c = colour_of(p);
                    let (_, ry) = chart.backend_coord(&(vlo, y));
                    text(
                        root,
                        &p.label,
                        &font(TICK_PX),
                        (px_range.start - 10, ry - 9),
                        HPos::Right,
                        VPos::Center,
                    )?;
                    text(
                        root,
                        &p.counts(),
                        &font(CAPTION_PX).color(&RGBColor(90, 90, 90)),
                        (px_range.start - 10, ry + 10),
                        HPos::Right,
                        VPos::Center,
                    )?;
                    if ok(p.lo) && ok(p.hi) {
                        chart
                            .draw_series([
                                PathElement::new(
                                    vec![(cut(p.lo), y), (p.hi, y)],
                                    c.stroke_width(2),
                                ),
                                PathElement::new(
                                    vec![(cut(p.lo), y - 0.15), (cut(p.lo), y + 0.15)],
                                    c.stroke_width(2),
                                ),
                                PathElement::new(
                                    vec![(p.hi, y - 0.15), (p.hi, y + 0.15)],
                                    c.stroke_width(2),
                                ),
                            ])
                            .map_err(perr)?;
                    }
                    if ok(p.mean) {
                        chart
                            .draw_series(std::iter::once(Circle::new((p.mean, y), 6, c.filled())))
                            .map_err(perr)?;
                    }
                    if p.never > 0 {
                        // A right-pointing arrow at the right edge: "beyond the budget".
                        let (ex, ey) = chart.backend_coord(&(vhi_plot, y));
                        let tip = ex - 6;
                        root.draw(&Polygon::new(
                            vec![(tip, ey), (tip - 14, ey - 8), (tip - 14, ey + 8)],
                            c.filled(),
                        ))
                        .map_err(perr)?;
                        text(
                            root,
                            &format!("{NEVER} {}/{}", p.never, p.seeds()),
                            &font(CAPTION_PX),
                            (tip - 18, ey),
                            HPos::Right,
                            VPos::Center,
                        )?;
                    } else if !ok(p.mean) {
                        text(
                            root,
                            if p.n == 0 && p.n_diverged > 0 {
                                "all diverged"
                            } else {
                                "undefined"
                            },
                            &font(CAPTION_PX),
                            (px_range.start + 8, ry),
                            HPos::Left,
                            VPos::Center,
                        )?;
                    }
                }
            }
        }
        let lx = width as i32 - legend_w + 4;
        legend(root, &self.legend_entries(), (lx, TOP))?;
        draw_caption(
            root,
            &d.caption,
            20,
            height as i32 - self.caption_h() + 8,
            width as i32 - 40,
        )?;
        Ok(vec![])
    }
}

/// Tick values that are zero up to round-off (e.g. -1.1e-16) print as 0.
fn snap0(v: f64) -> f64 {
    if v.abs() < 1e-9 {
        0.0
    } else {
        v
    }
}

/// Axes and grid; `rows` hides the y tick labels (row labels are drawn by hand).
fn mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    x_desc: &str,
    rows: &str,
) -> Result<()> {
    let mut m = chart.configure_mesh();
    m.x_desc(x_desc)
        .x_labels(9)
        .x_label_formatter(&|v| fmt_tick(snap0(*v)))
        .y_label_formatter(&|v| fmt_tick(snap0(*v)))
        .label_style(font(TICK_PX))
        .axis_desc_style(font(AXIS_PX))
        .light_line_style(RGBColor(245, 245, 245))
        .bold_line_style(RGBColor(220, 220, 220));
    if rows.is_empty() {
        m.y_labels(8);
    } else {
        m.y_labels(0).disable_y_mesh();
    }
    m.draw().map_err(perr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(label: &str, x: f64, mean: f64, half: f64) -> EstimatePoint {
        EstimatePoint {
            label: label.into(),
            series: String::new(),
            x,
            mean,
            lo: mean - half,
            hi: mean + half,
            n: 3,
            n_diverged: 0,
            never: 0,
        }
    }

    #[test]
    fn range_covers_points_bands_and_reference() {
        let d = EstimatesData {
            points: vec![pt("a", 0.0, 1.0, 0.5), pt("b", 1.0, 2.0, 0.1)],
            bands: vec![BaselineBand {
                label: "sgd".into(),
                mean: -1.0,
                lo: -1.5,
                hi: -0.5,
            }],
            reference: Some((3.0, "ref".into())),
            ..Default::default()
        };
        let (lo, hi) = value_range(&d).unwrap();
        assert!(lo < -1.5 && hi > 3.0, "{lo} {hi}");
        let empty = EstimatesData {
            points: vec![pt("a", 0.0, f64::NAN, f64::NAN)],
            ..Default::default()
        };
        assert!(value_range(&empty).is_none());
    }

    #[test]
    fn counts_name_diverged_and_never() {
        let mut p = pt("a", 0.0, 1.0, 0.1);
        assert_eq!(p.counts(), "n=3");
        p.n_diverged = 2;
        p.never = 1;
        assert_eq!(p.counts(), "n=3, 2 diverged, 1 never");
        assert_eq!(p.seeds(), 6);
    }
}
