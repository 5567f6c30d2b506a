//! Classification figures from series: accuracy (left axis, linear 0..1) and loss (right
//! axis, log) against epoch on twin axes ([`accuracy_loss`]), and accuracy against loss
//! ([`accuracy_vs_loss`]). One colour per series; dark: train, light: test.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::heatmap::draw_caption;
use super::style::{
    fit_bold, fmt_tick, font, log_ticks, perr, qualitative, text, AXIS_PX, TICK_PX, TITLE_PX,
};
use super::{render, Figure, Raster};
use crate::record::load::RunData;
use plotters::coord::combinators::{BindKeyPoints, LogCoord};

/// One run (or seed mean): accuracies and losses per evaluated epoch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccuracySeries {
    pub label: String,
    pub epochs: Vec<f64>,
    pub train_accuracy: Vec<f64>,
    pub test_accuracy: Vec<f64>,
    pub train_loss: Vec<f64>,
    pub test_loss: Vec<f64>,
}

impl AccuracySeries {
    /// The series of a loaded classification run (or seed mean); errors name the run when its
    /// epochs.csv has no accuracy columns.
    pub fn from_run(run: &RunData, label: String) -> Result<AccuracySeries> {
        let col = |name: &str| match run.epochs.metric(name) {
            Some(v) => Ok(v.to_vec()),
            None => bail!(
                "{}: not a classification run (epochs.csv has no {name} column)",
                run.dir.display()
            ),
        };
        Ok(AccuracySeries {
            label,
            epochs: run.epochs.epoch.iter().map(|&e| e as f64).collect(),
            train_accuracy: col("train_accuracy")?,
            test_accuracy: col("test_accuracy")?,
            train_loss: run.epochs.train_loss.clone(),
            test_loss: run.epochs.test_loss.clone(),
        })
    }
}

/// Everything an accuracy figure shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccuracyData {
    pub title: String,
    pub caption: String,
    pub series: Vec<AccuracySeries>,
    /// A reference accuracy (e.g. a published baseline), drawn as a grey line.
    pub reference: Option<(f64, String)>,
}

const W: u32 = 980;
const H: u32 = 640;
/// Room under the chart for two caption lines.
const CAPTION_H: i32 = 48;

fn check(path: &Path, d: &AccuracyData) -> Result<()> {
    super::Format::from_path(path)?;
    if d.series.is_empty() {
        bail!("accuracy figure {:?}: no series", d.title);
    }
    for s in &d.series {
        let n = s.epochs.len();
        if n == 0
            || [
                &s.train_accuracy,
                &s.test_accuracy,
                &s.train_loss,
                &s.test_loss,
            ]
            .iter()
            .any(|v| v.len() != n)
        {
            bail!(
                "accuracy figure {:?}: series {:?} is empty or has columns of other lengths",
                d.title,
                s.label
            );
        }
    }
    Ok(())
}

/// Accuracy (left, 0..1) and loss (right, log) against epoch, twin axes.
pub fn accuracy_loss(path: &Path, data: &AccuracyData) -> Result<()> {
    check(path, data)?;
    render(
        path,
        &Fig {
            d: data,
            vs_loss: false,
        },
    )
}

/// Test accuracy against train loss (log x), one path per series, epochs in order.
pub fn accuracy_vs_loss(path: &Path, data: &AccuracyData) -> Result<()> {
    check(path, data)?;
    render(
        path,
        &Fig {
            d: data,
            vs_loss: true,
        },
    )
}

struct Fig<'a> {
    d: &'a AccuracyData,
    vs_loss: bool,
}

fn finite_pos(v: &[f64]) -> impl Iterator<Item = f64> + '_ {
    v.iter().copied().filter(|x| x.is_finite() && *x > 0.0)
}

impl Figure for Fig<'_> {
    fn size(&self) -> (u32, u32) {
        (W, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.d;
        text(
            root,
            &d.title,
            &fit_bold(root, &d.title, TITLE_PX, W - 20),
            (W as i32 / 2, 12),
            HPos::Center,
            VPos::Top,
        )?;
        // Up to two caption lines under the chart.
        draw_caption(root, &d.caption, 20, H as i32 - CAPTION_H, W as i32 - 40)?;
        let area = root.margin(50, CAPTION_H as u32 + 6, 20, 20);
        let losses: Vec<f64> = d
            .series
            .iter()
            .flat_map(|s| finite_pos(&s.train_loss).chain(finite_pos(&s.test_loss)))
            .collect();
        let lo = losses.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = losses.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() && hi > lo {
            (lo / 1.5, hi * 1.5)
        } else {
            (1e-3, 10.0)
        };
        let styles = |i: usize, dashed: bool| {
            let c = qualitative(i);
            if dashed {
                c.mix(0.75).stroke_width(2)
            } else {
                c.stroke_width(3)
            }
        };
        // The loss axis: log, labelled at decades (1-2-5 steps on narrow ranges).
        let (bold, light) = log_ticks(lo, hi);
        let loss_axis = || {
            let c: LogCoord<f64> = (lo..hi).log_scale().into();
            c.with_key_points(bold.clone())
                .with_light_points(light.clone())
        };
        if self.vs_loss {
            let mut chart = ChartBuilder::on(&area)
                .x_label_area_size(50)
                .y_label_area_size(60)
                .build_cartesian_2d(loss_axis(), 0.0..1.0)
                .map_err(perr)?;
            chart
                .configure_mesh()
                .x_desc("train loss (cross-entropy, nats, log)")
                .y_desc("test accuracy")
                .x_label_formatter(&|v| fmt_tick(*v))
                .label_style(font(TICK_PX))
                .axis_desc_style(font(AXIS_PX))
                .draw()
                .map_err(perr)?;
            for (i, s) in d.series.iter().enumerate() {
                let pts: Vec<(f64, f64)> = s
                    .train_loss
                    .iter()
                    .zip(&s.test_accuracy)
                    .filter(|(l, a)| l.is_finite() && **l > 0.0 && a.is_finite())
                    .map(|(&l, &a)| (l, a))
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts.clone(), styles(i, false)))
                    .map_err(perr)?
                    .label(s.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], styles(i, false))
                    });
                chart
                    .draw_series(
                        pts.iter()
                            .map(|&p| Circle::new(p, 3, qualitative(i).filled())),
                    )
                    .map_err(perr)?;
            }
            if let Some((r, _)) = &d.reference {
                chart
                    .draw_series(LineSeries::new(
                        [(lo, *r), (hi, *r)],
                        BLACK.mix(0.4).stroke_width(1),
                    ))
                    .map_err(perr)?;
            }
            chart
                .configure_series_labels()
                .label_font(font(15.0))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .position(SeriesLabelPosition::LowerLeft)
                .draw()
                .map_err(perr)?;
            return Ok(Vec::new());
        }
        let e_hi = d
            .series
            .iter()
            .flat_map(|s| s.epochs.iter().copied())
            .fold(1.0f64, f64::max);
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .right_y_label_area_size(80)
            .build_cartesian_2d(0.0..e_hi, 0.0..1.0)
            .map_err(perr)?
            .set_secondary_coord(0.0..e_hi, loss_axis());
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("accuracy (thick)")
            .x_label_formatter(&|v| fmt_tick(*v))
            .label_style(font(TICK_PX))
            .axis_desc_style(font(AXIS_PX))
            .draw()
            .map_err(perr)?;
        chart
            .configure_secondary_axes()
            .y_desc("loss, cross-entropy in nats (thin, log)")
            .y_label_formatter(&|v| fmt_tick(*v))
            .label_style(font(TICK_PX))
            .axis_desc_style(font(AXIS_PX))
            .draw()
            .map_err(perr)?;
        for (i, s) in d.series.iter().enumerate() {
            for (acc, test) in [(&s.train_accuracy, false), (&s.test_accuracy, true)] {
                let pts: Vec<(f64, f64)> = s
                    .epochs
                    .iter()
                    .zip(acc)
                    .filter(|(_, a)| a.is_finite())
                    .map(|(&e, &a)| (e, a))
                    .collect();
                let style = styles(i, test);
                let series = chart
                    .draw_series(LineSeries::new(pts, style))
                    .map_err(perr)?;
                series
                    .label(format!(
                        "{} {} accuracy",
                        s.label,
                        if test { "test" } else { "train" }
                    ))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            }
            for (loss, test) in [(&s.train_loss, false), (&s.test_loss, true)] {
                let pts: Vec<(f64, f64)> = s
                    .epochs
                    .iter()
                    .zip(loss)
                    .filter(|(_, l)| l.is_finite() && **l > 0.0)
                    .map(|(&e, &l)| (e, l))
                    .collect();
                let c = qualitative(i).mix(if test { 0.5 } else { 0.8 });
                chart
                    .draw_secondary_series(LineSeries::new(pts, c.stroke_width(1)))
                    .map_err(perr)?;
            }
        }
        if let Some((r, label)) = &d.reference {
            let style = BLACK.mix(0.4).stroke_width(1);
            chart
                .draw_series(LineSeries::new([(0.0, *r), (e_hi, *r)], style))
                .map_err(perr)?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        }
        chart
            .configure_series_labels()
            .label_font(font(15.0))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(perr)?;
        Ok(Vec::new())
    }
}
