//! Per-band convergence heatmap: x = epoch, y = frequency band (bottom band first), colour =
//! a per-band value (e.g. relative band error), with a colour bar and optional strips above
//! the heatmap (p(t), lr(t)) drawn on exactly the same epoch axis (same x pixel range).
//!
//! Cells are rendered as one raster of one pixel column per screen column: when there are
//! more epochs than columns, each column shows the mean (in colour-scale space, i.e. of
//! log10 values on a log scale) of the epochs whose centre falls in it, and the caption says
//! so. NaN values are drawn [`NAN_GREY`](super::NAN_GREY).

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::colourmap::{viridis, ColourScale};
use super::style::{
    self, bold, fmt_tick, font, legend, perr, text, vtext, LegendEntry, AXIS_PX, CAPTION_PX,
    TICK_PX,
};
use super::{render, wrap, Figure, Raster};

/// A line drawn above a heatmap on the same epoch axis, e.g. the p(t) or lr(t) schedule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Strip {
    /// Axis title, e.g. "p(t)" or "lr(t)".
    pub label: String,
    /// One value per epoch of the heatmap (NaN = gap).
    pub values: Vec<f64>,
    /// Log-scaled y axis (values <= 0 become gaps).
    pub log: bool,
}

/// Everything a heatmap shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeatmapData {
    /// What and under which optimizer, e.g. "Relative band error, PAdam p = 0.25, seed 0".
    pub title: String,
    /// Measure definition and notes, printed under the plot.
    pub caption: String,
    /// Epoch of each column; finite and strictly increasing (spacing may vary).
    pub epochs: Vec<f64>,
    /// One label per band, bottom (lowest frequency) band first, e.g. "1 cyc", "2-3 cyc".
    pub band_labels: Vec<String>,
    /// `values[band][epoch_index]`; NaN allowed.
    pub values: Vec<Vec<f64>>,
    /// Colour-bar label, e.g. "relative band error E_b(r)/E_b(y)".
    pub value_label: String,
    /// Row-axis label; empty for the default "frequency band (cycles per unit length)".
    pub row_label: String,
    /// Column-axis label; empty for the default "epoch" (columns need not be epochs, e.g.
    /// the kernel's eigen-index).
    pub col_label: String,
    /// Strips drawn above the heatmap (may be empty).
    pub strips: Vec<Strip>,
}

/// A pixel rectangle, half-open: x in [x0, x1), y in [y0, y1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelRect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl PixelRect {
    pub fn width(&self) -> i32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> i32 {
        self.y1 - self.y0
    }
}

/// Where things are in a [`heatmap`] figure (pixels from the top-left corner).
#[derive(Clone, Debug, PartialEq)]
pub struct HeatmapLayout {
    /// Figure size (width, height).
    pub size: (u32, u32),
    /// Plot area of each strip, top to bottom; same x range as `cells`.
    pub strips: Vec<PixelRect>,
    /// The cell area (the colour raster).
    pub cells: PixelRect,
    /// The colour bar's gradient.
    pub colour_bar: PixelRect,
    /// Epoch range covered by the x axis: half a spacing beyond the first and last epoch.
    pub x_range: (f64, f64),
    /// Number of bands (rows).
    pub n_bands: usize,
}

impl HeatmapLayout {
    /// Pixel column (absolute x) containing epoch value `e`.
    pub fn epoch_to_x(&self, e: f64) -> i32 {
        let (lo, hi) = self.x_range;
        let w = self.cells.width() as f64;
        self.cells.x0 + (((e - lo) / (hi - lo) * w).floor() as i32).clamp(0, self.cells.width() - 1)
    }

    /// Pixel row (absolute y) at the vertical centre of band `band` (0 = bottom band).
    pub fn band_to_y(&self, band: usize) -> i32 {
        band_centre_y(&self.cells, self.n_bands, band)
    }

    /// Pixel at the centre of cell (`band`, `epoch_index`) of `data`.
    pub fn cell_pixel(&self, data: &HeatmapData, band: usize, epoch_index: usize) -> (i32, i32) {
        (
            self.epoch_to_x(data.epochs[epoch_index]),
            self.band_to_y(band),
        )
    }
}

const WIDTH: u32 = 1000;
const LEFT: i32 = 175;
const TOP: i32 = 52;
const STRIP_H: i32 = 72;
const STRIP_GAP: i32 = 14;
const X_LABEL_AREA: i32 = 58;
const CAPTION_AREA: i32 = 64;
const CB_GAP: i32 = 24;
const CB_W: i32 = 24;
const CB_TICKS: i32 = 64;
const CB_LABEL: i32 = 34;

/// Layout of the [`heatmap`] figure for `data` (validated first).
pub fn heatmap_layout(data: &HeatmapData) -> Result<HeatmapLayout> {
    validate(data)?;
    let n_strips = data.strips.len() as i32;
    let h = 600 + (STRIP_H + STRIP_GAP) * n_strips;
    let right = CB_GAP + CB_W + CB_TICKS + CB_LABEL + 12;
    let x1 = WIDTH as i32 - right;
    let strips = (0..n_strips)
        .map(|i| PixelRect {
            x0: LEFT,
            x1,
            y0: TOP + i * (STRIP_H + STRIP_GAP),
            y1: TOP + i * (STRIP_H + STRIP_GAP) + STRIP_H,
        })
        .collect();
    let cells = PixelRect {
        x0: LEFT,
        x1,
        y0: TOP + n_strips * (STRIP_H + STRIP_GAP),
        y1: h - X_LABEL_AREA - CAPTION_AREA,
    };
    let colour_bar = PixelRect {
        x0: x1 + CB_GAP,
        x1: x1 + CB_GAP + CB_W,
        y0: cells.y0,
        y1: cells.y1,
    };
    Ok(HeatmapLayout {
        size: (WIDTH, h as u32),
        strips,
        cells,
        colour_bar,
        x_range: x_range(&data.epochs),
        n_bands: data.band_labels.len(),
    })
}

/// Draw the heatmap of `data` coloured by `scale` into `path` (.png or .svg).
///
/// Errors if there are no epochs or no bands, if the shapes disagree, if epochs are not
/// finite and strictly increasing, if the scale is invalid, or the extension is unknown.
pub fn heatmap(path: &Path, data: &HeatmapData, scale: &ColourScale) -> Result<()> {
    super::Format::from_path(path)?;
    scale.validate()?;
    let layout = heatmap_layout(data)?;
    render(
        path,
        &HeatmapFigure {
            data,
            scale,
            layout,
        },
    )
}

struct HeatmapFigure<'a> {
    data: &'a HeatmapData,
    scale: &'a ColourScale,
    layout: HeatmapLayout,
}

impl Figure for HeatmapFigure<'_> {
    fn size(&self) -> (u32, u32) {
        self.layout.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let l = &self.layout;
        style::title(root, &self.data.title, l.size.0)?;
        let geom = BlockGeom {
            strips: l.strips.clone(),
            cells: l.cells,
            left: LEFT,
            x_label_area: X_LABEL_AREA,
        };
        let opts = BlockStyle {
            band_labels: true,
            y_desc: true,
            x_desc: true,
        };
        let (cells, per_col) = draw_block(root, self.data, self.scale, &geom, &opts)?;
        let bar = draw_colour_bar(root, self.scale, &self.data.value_label, l.colour_bar)?;
        let mut caption = self.data.caption.clone();
        if let Some(note) = downsample_note(per_col, self.scale) {
            caption = if caption.is_empty() {
                note
            } else {
                format!("{caption} {note}")
            };
        }
        draw_caption(
            root,
            &caption,
            20,
            l.cells.y1 + X_LABEL_AREA + 6,
            l.size.0 as i32 - 40,
        )?;
        Ok(vec![cells, bar])
    }
}

/// Caption lines from `y` down, wrapped to `max_w` pixels.
pub(crate) fn draw_caption<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    caption: &str,
    x: i32,
    y: i32,
    max_w: i32,
) -> Result<()> {
    let line_h = (CAPTION_PX * 1.35) as i32;
    for (i, line) in wrap(root, caption, CAPTION_PX, max_w.max(50) as u32)
        .iter()
        .enumerate()
    {
        text(
            root,
            line,
            &font(CAPTION_PX).color(&RGBColor(60, 60, 60)),
            (x, y + line_h * i as i32),
            HPos::Left,
            VPos::Top,
        )?;
    }
    Ok(())
}

/// The furniture of a chart with its legend on the right: the y label written vertically
/// beside the plotting area (pixel ranges `plot_px`), the legend's bold `title` at `top` and
/// its `entries` below it, right of the plotting area, and the caption from `caption_y` down,
/// `width` pixels wide with 20-pixel margins.
#[allow(clippy::too_many_arguments)]
pub(crate) fn side_legend_and_caption<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot_px: (std::ops::Range<i32>, std::ops::Range<i32>),
    y_label: &str,
    title: &str,
    entries: &[LegendEntry],
    top: i32,
    caption: &str,
    caption_y: i32,
    width: i32,
) -> Result<()> {
    let (px, py) = plot_px;
    vtext(root, y_label, AXIS_PX, (16, (py.start + py.end) / 2))?;
    text(
        root,
        title,
        &bold(CAPTION_PX),
        (px.end + 16, top),
        HPos::Left,
        VPos::Top,
    )?;
    legend(root, entries, (px.end + 16, top + 24))?;
    draw_caption(root, caption, 20, caption_y, width - 40)
}

/// The caption note for `per_col` epochs per pixel column (None when not downsampled).
pub(crate) fn downsample_note(per_col: usize, scale: &ColourScale) -> Option<String> {
    (per_col > 1).then(|| {
        format!(
            "Epochs downsampled to the pixel width: each column shows the mean{} of up to {per_col} consecutive epochs.",
            if scale.log { " (of log10 values)" } else { "" }
        )
    })
}

/// Check shapes and epochs; the error names the figure and what to fix.
pub(crate) fn validate(d: &HeatmapData) -> Result<()> {
    let name = &d.title;
    if d.epochs.is_empty() {
        bail!("heatmap {name:?}: no epochs to plot (epochs is empty)");
    }
    if d.band_labels.is_empty() {
        bail!("heatmap {name:?}: no bands to plot (band_labels is empty)");
    }
    if d.values.len() != d.band_labels.len() {
        bail!(
            "heatmap {name:?}: values has {} band rows but band_labels has {} labels",
            d.values.len(),
            d.band_labels.len()
        );
    }
    for (b, row) in d.values.iter().enumerate() {
        if row.len() != d.epochs.len() {
            bail!(
                "heatmap {name:?}: band {b} ({}) has {} values but there are {} epochs",
                d.band_labels[b],
                row.len(),
                d.epochs.len()
            );
        }
    }
    if d.epochs.iter().any(|e| !e.is_finite()) || d.epochs.windows(2).any(|w| w[1] <= w[0]) {
        bail!("heatmap {name:?}: epochs must be finite and strictly increasing");
    }
    for s in &d.strips {
        if s.values.len() != d.epochs.len() {
            bail!(
                "heatmap {name:?}: strip {:?} has {} values but there are {} epochs",
                s.label,
                s.values.len(),
                d.epochs.len()
            );
        }
    }
    Ok(())
}

/// X range: half a spacing beyond the first and last epochs (one epoch: +-0.5).
pub(crate) fn x_range(epochs: &[f64]) -> (f64, f64) {
    let n = epochs.len();
    if n == 1 {
        return (epochs[0] - 0.5, epochs[0] + 0.5);
    }
    (
        epochs[0] - 0.5 * (epochs[1] - epochs[0]),
        epochs[n - 1] + 0.5 * (epochs[n - 1] - epochs[n - 2]),
    )
}

fn band_centre_y(cells: &PixelRect, n_bands: usize, band: usize) -> i32 {
    let row = (n_bands - 1 - band) as f64 + 0.5;
    cells.y0 + (row * cells.height() as f64 / n_bands as f64).floor() as i32
}

/// Pixel geometry of one heatmap block (strips + cells), shared by heatmap and panel.
pub(crate) struct BlockGeom {
    pub strips: Vec<PixelRect>,
    pub cells: PixelRect,
    /// Width of the label area left of the plot areas.
    pub left: i32,
    /// Height of the x tick/title area under the cells.
    pub x_label_area: i32,
}

pub(crate) struct BlockStyle {
    pub band_labels: bool,
    pub y_desc: bool,
    pub x_desc: bool,
}

/// Draw strips, axes and band labels of one heatmap; return the cell raster and the maximum
/// number of epochs averaged into one pixel column.
pub(crate) fn draw_block<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &HeatmapData,
    scale: &ColourScale,
    g: &BlockGeom,
    s: &BlockStyle,
) -> Result<(Raster, usize)> {
    let (lo, hi) = x_range(&d.epochs);
    let c = g.cells;
    // Cell chart: only the x axis comes from plotters; bands are labelled by hand.
    let area = root.clone().shrink(
        (c.x0, c.y0),
        (c.width() as u32, (c.height() + g.x_label_area) as u32),
    );
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(g.x_label_area as u32)
        .build_cartesian_2d(lo..hi, 0f64..d.band_labels.len() as f64)
        .map_err(perr)?;
    let (px, py) = chart.plotting_area().get_pixel_range();
    if (px.start, px.end, py.start, py.end) != (c.x0, c.x1, c.y0, c.y1) {
        bail!("internal layout error: cell area {px:?} x {py:?} differs from the layout {c:?}");
    }
    let mut mesh = chart.configure_mesh();
    mesh.disable_mesh()
        .y_labels(0)
        .x_labels(8)
        .x_label_formatter(&|v| fmt_tick(*v))
        .label_style(font(TICK_PX))
        .axis_desc_style(font(AXIS_PX));
    if s.x_desc {
        mesh.x_desc(if d.col_label.is_empty() {
            "epoch"
        } else {
            &d.col_label
        });
    }
    mesh.draw().map_err(perr)?;
    frame(root, c)?;
    // Band labels and ticks.
    let n = d.band_labels.len();
    let step = ((n as f64 * TICK_PX * 1.25) / c.height() as f64)
        .ceil()
        .max(1.0) as usize;
    for b in (0..n).step_by(step) {
        let y = band_centre_y(&c, n, b);
        root.draw(&PathElement::new(vec![(c.x0 - 6, y), (c.x0 - 1, y)], BLACK))
            .map_err(perr)?;
        if s.band_labels {
            text(
                root,
                &d.band_labels[b],
                &font(TICK_PX),
                (c.x0 - 9, y),
                HPos::Right,
                VPos::Center,
            )?;
        }
    }
    if s.y_desc {
        vtext(
            root,
            if d.row_label.is_empty() {
                "frequency band (cycles per unit length)"
            } else {
                &d.row_label
            },
            AXIS_PX,
            (c.x0 - g.left + 14, (c.y0 + c.y1) / 2),
        )?;
    }
    for (strip, rect) in d.strips.iter().zip(&g.strips) {
        draw_strip(root, d, strip, *rect, g.left, s.y_desc)?;
    }
    Ok(cell_raster(d, scale, c, (lo, hi)))
}

fn frame<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: PixelRect) -> Result<()> {
    let pts = vec![
        (r.x0 - 1, r.y0 - 1),
        (r.x1, r.y0 - 1),
        (r.x1, r.y1),
        (r.x0 - 1, r.y1),
        (r.x0 - 1, r.y0 - 1),
    ];
    root.draw(&PathElement::new(pts, BLACK)).map_err(perr)
}

fn draw_strip<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &HeatmapData,
    strip: &Strip,
    r: PixelRect,
    left: i32,
    y_desc: bool,
) -> Result<()> {
    let (lo, hi) = x_range(&d.epochs);
    let label_w = (left - 36).max(30);
    let area = root.clone().shrink(
        (r.x0 - label_w, r.y0),
        ((r.width() + label_w) as u32, r.height() as u32),
    );
    let colour = RGBColor(0, 90, 160);
    macro_rules! body {
        ($chart:expr, $keep:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_labels(8)
                .y_labels(3)
                .y_label_formatter(&|v| fmt_tick(*v))
                .label_style(font(TICK_PX - 2.0))
                .light_line_style(WHITE.mix(0.0))
                .bold_line_style(RGBColor(225, 225, 225))
                .draw()
                .map_err(perr)?;
            let line = colour.stroke_width(2);
            style::draw_runs(&mut chart, (&d.epochs, &strip.values), $keep, line, None)?;
        }};
    }
    let builder = || {
        let mut b = ChartBuilder::on(&area);
        b.y_label_area_size(label_w as u32);
        b
    };
    if strip.log {
        let (a, b) = style::log_range(&strip.values).unwrap_or((1e-3, 1.0));
        let chart = builder()
            .build_cartesian_2d(lo..hi, (a..b).log_scale())
            .map_err(perr)?;
        body!(chart, |v: f64| v.is_finite() && v > 0.0);
    } else {
        let (a, b) = style::lin_range(&strip.values).unwrap_or((0.0, 1.0));
        let chart = builder().build_cartesian_2d(lo..hi, a..b).map_err(perr)?;
        body!(chart, |v: f64| v.is_finite());
    }
    frame(root, r)?;
    let _ = y_desc;
    vtext(
        root,
        &strip.label,
        AXIS_PX - 2.0,
        (r.x0 - left + 14, (r.y0 + r.y1) / 2),
    )?;
    Ok(())
}

/// One pixel column per screen column, one row per band (top row = highest band).
fn cell_raster(
    d: &HeatmapData,
    scale: &ColourScale,
    c: PixelRect,
    (lo, hi): (f64, f64),
) -> (Raster, usize) {
    let w = c.width().max(1) as usize;
    let n = d.band_labels.len();
    let e = &d.epochs;
    // Boundaries between cells (midpoints) for columns that contain no epoch centre.
    let mids: Vec<f64> = e.windows(2).map(|p| 0.5 * (p[0] + p[1])).collect();
    let mut rgb = vec![0u8; w * n * 3];
    let mut max_per_col = 1;
    let units: Vec<Vec<f64>> = d
        .values
        .iter()
        .map(|row| row.iter().map(|&v| scale.unit(v)).collect())
        .collect();
    for col in 0..w {
        let a = lo + (hi - lo) * col as f64 / w as f64;
        let b = lo + (hi - lo) * (col + 1) as f64 / w as f64;
        let i0 = e.partition_point(|&x| x < a);
        let i1 = e.partition_point(|&x| x < b);
        let (i0, i1) = if i1 > i0 {
            max_per_col = max_per_col.max(i1 - i0);
            (i0, i1)
        } else {
            let centre = 0.5 * (a + b);
            let i = mids.partition_point(|&m| m <= centre);
            (i, i + 1)
        };
        for (band, unit_row) in units.iter().enumerate() {
            let row = &unit_row[i0..i1];
            let (sum, cnt) = row
                .iter()
                .filter(|u| !u.is_nan())
                .fold((0.0, 0usize), |(s, k), &u| (s + u, k + 1));
            let t = if cnt == 0 { f64::NAN } else { sum / cnt as f64 };
            let colour = viridis(t);
            let o = ((n - 1 - band) * w + col) * 3;
            rgb[o..o + 3].copy_from_slice(&[colour.0, colour.1, colour.2]);
        }
    }
    (
        Raster {
            rect: c,
            data_w: w as u32,
            data_h: n as u32,
            rgb,
        },
        max_per_col,
    )
}

/// Draw the colour bar's axis (ticks on the right, log ticks on a log scale) and label;
/// return its gradient raster for `r`.
/// Tick values of a log colour bar: every power of ten in [lo, hi] (ends included up to
/// rounding), with 2x and 5x steps added when the range spans fewer than three decades'
/// worth of ticks; thinned to at most 8.
fn log_key_points(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.log10(), hi.log10());
    let inside = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
    let decades: Vec<i32> = ((a - 1e-9).ceil() as i32..=(b + 1e-9).floor() as i32).collect();
    let mut ticks: Vec<f64> = decades
        .iter()
        .map(|&e| 10f64.powi(e))
        .filter(|&v| inside(v))
        .collect();
    if ticks.len() < 3 {
        let mut more = Vec::new();
        for e in (a.floor() as i32)..=(b.ceil() as i32) {
            for m in [1.0, 2.0, 5.0] {
                let v = m * 10f64.powi(e);
                if inside(v) {
                    more.push(v);
                }
            }
        }
        ticks = more;
    }
    let step = ticks.len().div_ceil(8).max(1);
    ticks.into_iter().step_by(step).collect()
}

pub(crate) fn draw_colour_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scale: &ColourScale,
    label: &str,
    r: PixelRect,
) -> Result<Raster> {
    let area = root.clone().shrink(
        (r.x0, r.y0),
        ((r.width() + CB_TICKS) as u32, r.height() as u32),
    );
    macro_rules! axis {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .disable_mesh()
                .set_all_tick_mark_size(6)
                .x_labels(0)
                .y_labels(6)
                .y_label_formatter(&|v| fmt_tick(*v))
                .label_style(font(TICK_PX))
                .draw()
                .map_err(perr)?;
        }};
    }
    let builder = || {
        let mut b = ChartBuilder::on(&area);
        b.right_y_label_area_size(CB_TICKS as u32);
        b
    };
    if scale.log {
        axis!(builder()
            .build_cartesian_2d(
                0f64..1f64,
                (scale.min..scale.max)
                    .log_scale()
                    .with_key_points(log_key_points(scale.min, scale.max)),
            )
            .map_err(perr)?);
    } else {
        axis!(builder()
            .build_cartesian_2d(0f64..1f64, scale.min..scale.max)
            .map_err(perr)?);
    }
    frame(root, r)?;
    vtext(
        root,
        label,
        AXIS_PX - 2.0,
        (r.x1 + CB_TICKS + CB_LABEL / 2, (r.y0 + r.y1) / 2),
    )?;
    const STEPS: usize = 256;
    let mut rgb = Vec::with_capacity(STEPS * 3);
    for i in 0..STEPS {
        let c = viridis(1.0 - (i as f64 + 0.5) / STEPS as f64);
        rgb.extend_from_slice(&[c.0, c.1, c.2]);
    }
    Ok(Raster {
        rect: r,
        data_w: 1,
        data_h: STEPS as u32,
        rgb,
    })
}

#[cfg(test)]
mod key_point_tests {
    use super::log_key_points;

    #[test]
    fn log_colour_bar_ticks() {
        let one_decade = log_key_points(0.1, 1.0);
        assert_eq!(one_decade.len(), 4);
        for (got, want) in one_decade.iter().zip([0.1, 0.2, 0.5, 1.0]) {
            assert!((got - want).abs() < 1e-12, "{one_decade:?}");
        }
        let wide = log_key_points(1e-7, 10.0);
        assert!(
            wide.len() <= 8 && (wide[0] - 1e-7).abs() < 1e-20,
            "{wide:?}"
        );
        assert!(wide.windows(2).all(|w| w[1] > w[0]));
    }
}
