//! Schedules for scalar hyperparameters (lr, p, betas, ...): pure functions of the step or
//! epoch count, in the style of optax's schedules. A config value is either a number
//! (constant) or a table `{ kind = "cosine", min = .., max = .., period = .. }`.
//!
//! The table as written ([`ScheduleTable`], flat optional fields, the TOML syntax) is checked
//! once by [`ScheduleTable::validate`], which returns a [`Schedule`]: a tagged enum with exactly
//! the fields of its shape, warm-up being a wrapper around any other schedule.

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// What `t` counts: optimizer steps or whole epochs (the value is then constant inside an epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Step,
    #[default]
    Epoch,
}

/// The waveform of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// `value` for ever.
    Constant,
    /// min + (max-min) (1 + cos(2 pi (t/period + phase))) / 2: starts at max when phase = 0.
    Cosine,
    /// Linear ramps max -> min -> max over one period (starts at max when phase = 0).
    Triangle,
    /// `values[0]` for the first half of each period, `values[1]` for the second half.
    Square,
    /// `values[i]` on [boundaries[i-1], boundaries[i]): a step function of t.
    Piecewise,
    /// Linear from `min` at t = 0 to `max` at t = `period`, then held at `max`.
    Linear,
}

/// A scalar schedule as written in a config file. Only the fields its shape needs may be set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTable {
    pub kind: Shape,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<f64>,
    /// Phase offset as a fraction of the period (0..1).
    #[serde(default)]
    pub phase: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundaries: Option<Vec<f64>>,
    #[serde(default)]
    pub unit: Unit,
    /// Length of a linear warm-up (in `unit`s) from `warmup_from` to the schedule's value.
    #[serde(default)]
    pub warmup: f64,
    #[serde(default)]
    pub warmup_from: f64,
}

impl ScheduleTable {
    /// The table of a plain number.
    pub fn constant(value: f64) -> Self {
        ScheduleTable {
            kind: Shape::Constant,
            value: Some(value),
            min: None,
            max: None,
            period: None,
            phase: 0.0,
            values: None,
            boundaries: None,
            unit: Unit::Epoch,
            warmup: 0.0,
            warmup_from: 0.0,
        }
    }

    /// Check that the fields this shape needs are present and sensible, and return the
    /// schedule; `path` names the config field (e.g. "optimizer.p") in the error.
    pub fn validate(&self, path: &str) -> Result<Schedule, String> {
        let need = |v: Option<f64>, f: &str| -> Result<f64, String> {
            v.ok_or_else(|| {
                format!(
                    "{path}.{f} is required for kind = \"{}\"",
                    self.shape_name()
                )
            })
        };
        let allowed: &[&str] = match self.kind {
            Shape::Constant => &["value"],
            Shape::Cosine | Shape::Triangle => &["min", "max", "period"],
            Shape::Square => &["values", "period"],
            Shape::Piecewise => &["values", "boundaries"],
            Shape::Linear => &["min", "max", "period"],
        };
        let present = [
            ("value", self.value.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("period", self.period.is_some()),
            ("values", self.values.is_some()),
            ("boundaries", self.boundaries.is_some()),
        ];
        for (name, is_set) in present {
            if is_set && !allowed.contains(&name) {
                return Err(format!(
                    "{path}.{name} is not used by kind = \"{}\" (it takes {})",
                    self.shape_name(),
                    allowed.join(", ")
                ));
            }
        }
        match self.kind {
            Shape::Constant => {
                need(self.value, "value")?;
            }
            Shape::Cosine | Shape::Triangle | Shape::Linear => {
                need(self.min, "min")?;
                need(self.max, "max")?;
                let period = need(self.period, "period")?;
                if period.is_nan() || period <= 0.0 {
                    return Err(format!("{path}.period must be > 0, got {period}"));
                }
            }
            Shape::Square => {
                let period = need(self.period, "period")?;
                if period.is_nan() || period <= 0.0 {
                    return Err(format!("{path}.period must be > 0, got {period}"));
                }
                match &self.values {
                    Some(v) if v.len() == 2 => {}
                    _ => return Err(format!("{path}.values must list exactly two numbers for kind = \"square\", e.g. values = [0.0, 0.5]")),
                }
            }
            Shape::Piecewise => {
                let values = self
                    .values
                    .as_ref()
                    .ok_or_else(|| format!("{path}.values is required for kind = \"piecewise\""))?;
                let bounds = self.boundaries.as_ref().ok_or_else(|| {
                    format!("{path}.boundaries is required for kind = \"piecewise\"")
                })?;
                if values.len() != bounds.len() + 1 {
                    return Err(format!(
                        "{path}: piecewise needs one more value than boundaries (got {} values, {} boundaries)",
                        values.len(),
                        bounds.len()
                    ));
                }
                if bounds.windows(2).any(|w| w[1] <= w[0]) {
                    return Err(format!("{path}.boundaries must be strictly increasing"));
                }
            }
        }
        if self.warmup < 0.0 {
            return Err(format!("{path}.warmup must be >= 0"));
        }
        let all = [
            self.value,
            self.min,
            self.max,
            Some(self.phase),
            Some(self.warmup),
            Some(self.warmup_from),
        ];
        if all.iter().flatten().any(|x| !x.is_finite())
            || self.values.iter().flatten().any(|x| !x.is_finite())
        {
            return Err(format!("{path}: every number must be finite"));
        }
        Ok(self.typed())
    }

    /// The tagged form of a validated table.
    fn typed(&self) -> Schedule {
        let (min, max) = (self.min.unwrap_or(0.0), self.max.unwrap_or(0.0));
        let (period, phase, unit) = (self.period.unwrap_or(1.0), self.phase, self.unit);
        let values = self.values.clone().unwrap_or_default();
        let shape = match self.kind {
            Shape::Constant => Schedule::Constant {
                value: self.value.unwrap_or(0.0),
            },
            Shape::Cosine => Schedule::Cosine {
                min,
                max,
                period,
                phase,
                unit,
            },
            Shape::Triangle => Schedule::Triangle {
                min,
                max,
                period,
                phase,
                unit,
            },
            Shape::Square => Schedule::Square {
                values: [values[0], values[1]],
                period,
                phase,
                unit,
            },
            Shape::Piecewise => Schedule::Piecewise {
                values,
                boundaries: self.boundaries.clone().unwrap_or_default(),
                unit,
            },
            Shape::Linear => Schedule::Linear {
                min,
                max,
                period,
                unit,
            },
        };
        if self.warmup > 0.0 {
            Schedule::Warmup {
                length: self.warmup,
                from: self.warmup_from,
                unit,
                then: Box::new(shape),
            }
        } else {
            shape
        }
    }

    fn shape_name(&self) -> &'static str {
        match self.kind {
            Shape::Constant => "constant",
            Shape::Cosine => "cosine",
            Shape::Triangle => "triangle",
            Shape::Square => "square",
            Shape::Piecewise => "piecewise",
            Shape::Linear => "linear",
        }
    }
}

impl Unit {
    /// t of (step, epoch), both 0-based.
    #[inline]
    fn t(self, step: u64, epoch: u64) -> f64 {
        match self {
            Unit::Step => step as f64,
            Unit::Epoch => epoch as f64,
        }
    }
}

/// Where t lies in its period, in [0, 1).
#[inline]
fn cycle(t: f64, period: f64, phase: f64) -> f64 {
    (t / period + phase).rem_euclid(1.0)
}

/// A validated schedule: one variant per shape with the fields it uses (see [`Shape`] for the
/// formulas), and a linear warm-up as a wrapper around any of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Constant {
        value: f64,
    },
    Cosine {
        min: f64,
        max: f64,
        period: f64,
        phase: f64,
        unit: Unit,
    },
    Triangle {
        min: f64,
        max: f64,
        period: f64,
        phase: f64,
        unit: Unit,
    },
    Square {
        values: [f64; 2],
        period: f64,
        phase: f64,
        unit: Unit,
    },
    Piecewise {
        values: Vec<f64>,
        boundaries: Vec<f64>,
        unit: Unit,
    },
    Linear {
        min: f64,
        max: f64,
        period: f64,
        unit: Unit,
    },
    /// For t < `length`: linear from `from` to the value of `then`; afterwards `then`.
    Warmup {
        length: f64,
        from: f64,
        unit: Unit,
        then: Box<Schedule>,
    },
}

impl Schedule {
    /// A constant schedule.
    pub fn constant(value: f64) -> Self {
        Schedule::Constant { value }
    }

    /// The single value of a constant schedule without warm-up.
    pub fn as_constant(&self) -> Option<f64> {
        match self {
            Schedule::Constant { value } => Some(*value),
            _ => None,
        }
    }

    /// The values every other value of the schedule lies between: each shape moves
    /// between these (cosine, triangle and linear between `min` and `max`, square and
    /// piecewise among `values`, a warm-up from `from`), so a convex range holds every
    /// value the schedule takes iff it holds all of these.
    pub fn extremes(&self) -> Vec<f64> {
        match self {
            Schedule::Constant { value } => vec![*value],
            Schedule::Cosine { min, max, .. }
            | Schedule::Triangle { min, max, .. }
            | Schedule::Linear { min, max, .. } => vec![*min, *max],
            Schedule::Square { values, .. } => values.to_vec(),
            Schedule::Piecewise { values, .. } => values.clone(),
            Schedule::Warmup { from, then, .. } => {
                let mut out = then.extremes();
                out.push(*from);
                out
            }
        }
    }

    /// The value at step `step` (0-based) during epoch `epoch` (0-based).
    pub fn at(&self, step: u64, epoch: u64) -> f64 {
        match self {
            Schedule::Constant { value } => *value,
            Schedule::Cosine {
                min,
                max,
                period,
                phase,
                unit,
            } => {
                let c = cycle(unit.t(step, epoch), *period, *phase);
                min + (max - min) * 0.5 * (1.0 + (2.0 * PI * c).cos())
            }
            Schedule::Triangle {
                min,
                max,
                period,
                phase,
                unit,
            } => {
                let c = cycle(unit.t(step, epoch), *period, *phase);
                min + (max - min) * (2.0 * c - 1.0).abs()
            }
            Schedule::Square {
                values,
                period,
                phase,
                unit,
            } => {
                if cycle(unit.t(step, epoch), *period, *phase) < 0.5 {
                    values[0]
                } else {
                    values[1]
                }
            }
            Schedule::Piecewise {
                values,
                boundaries,
                unit,
            } => {
                let t = unit.t(step, epoch);
                values[boundaries.partition_point(|&b| b <= t)]
            }
            Schedule::Linear {
                min,
                max,
                period,
                unit,
            } => min + (max - min) * (unit.t(step, epoch) / period).min(1.0),
            Schedule::Warmup {
                length,
                from,
                unit,
                then,
            } => {
                let (t, base) = (unit.t(step, epoch), then.at(step, epoch));
                if t < *length {
                    from + (base - from) * (t / length)
                } else {
                    base
                }
            }
        }
    }
}

/// A scalar hyperparameter in a config: a plain number or a schedule table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Hyper {
    Const(f64),
    Scheduled(ScheduleTable),
}

impl Hyper {
    /// The schedule table this value stands for.
    pub fn table(&self) -> ScheduleTable {
        match self {
            Hyper::Const(v) => ScheduleTable::constant(*v),
            Hyper::Scheduled(s) => s.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Hyper {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Hyper;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a schedule table such as { kind = \"cosine\", min = -0.5, max = 0.5, period = 100 }")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Hyper, E> {
                Ok(Hyper::Const(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Hyper, E> {
                Ok(Hyper::Const(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Hyper, E> {
                Ok(Hyper::Const(v as f64))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Hyper, A::Error> {
                ScheduleTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Hyper::Scheduled)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> ScheduleTable {
        #[derive(Deserialize)]
        struct W {
            s: Hyper,
        }
        let w: W = toml::from_str(&format!("s = {s}")).unwrap();
        w.s.table()
    }

    fn parse(s: &str) -> Schedule {
        table(s).validate("s").unwrap()
    }

    #[test]
    fn constant_number_and_table() {
        assert_eq!(parse("0.25").at(7, 3), 0.25);
        assert_eq!(parse("3").at(0, 0), 3.0);
        assert_eq!(
            parse("{ kind = \"constant\", value = -0.5 }").at(9, 9),
            -0.5
        );
    }

    #[test]
    fn cosine_hits_max_min_and_quarter() {
        let s = parse("{ kind = \"cosine\", min = -0.5, max = 0.5, period = 100 }");
        assert!((s.at(0, 0) - 0.5).abs() < 1e-12);
        assert!((s.at(0, 50) + 0.5).abs() < 1e-12);
        assert!(s.at(0, 25).abs() < 1e-12);
        assert!((s.at(0, 100) - 0.5).abs() < 1e-12);
        let shifted =
            parse("{ kind = \"cosine\", min = -0.5, max = 0.5, period = 100, phase = 0.5 }");
        assert!((shifted.at(0, 0) + 0.5).abs() < 1e-12);
    }

    #[test]
    fn triangle_square_piecewise_linear() {
        let tri = parse("{ kind = \"triangle\", min = 0, max = 1, period = 10 }");
        assert_eq!(tri.at(0, 0), 1.0);
        assert_eq!(tri.at(0, 5), 0.0);
        assert!((tri.at(0, 2) - 0.6).abs() < 1e-12);
        let sq = parse("{ kind = \"square\", values = [0.0, 0.5], period = 4, unit = \"step\" }");
        let got: Vec<f64> = (0..8).map(|s| sq.at(s, 0)).collect();
        assert_eq!(got, [0.0, 0.0, 0.5, 0.5, 0.0, 0.0, 0.5, 0.5]);
        let pw = parse("{ kind = \"piecewise\", values = [1, 0.1, 0.01], boundaries = [10, 20] }");
        assert_eq!(
            (pw.at(0, 9), pw.at(0, 10), pw.at(0, 19), pw.at(0, 25)),
            (1.0, 0.1, 0.1, 0.01)
        );
        let lin = parse("{ kind = \"linear\", min = 0, max = 2, period = 4 }");
        assert_eq!((lin.at(0, 0), lin.at(0, 1), lin.at(0, 9)), (0.0, 0.5, 2.0));
    }

    #[test]
    fn warmup_ramps_from_start_value() {
        let s = parse("{ kind = \"constant\", value = 1.0, warmup = 4, unit = \"step\" }");
        assert_eq!(s.at(0, 0), 0.0);
        assert_eq!(s.at(2, 0), 0.5);
        assert_eq!(s.at(4, 0), 1.0);
    }

    #[test]
    fn step_unit_counts_steps() {
        let s = parse("{ kind = \"linear\", min = 0, max = 10, period = 10, unit = \"step\" }");
        assert_eq!(s.at(3, 0), 3.0);
        let e = parse("{ kind = \"linear\", min = 0, max = 10, period = 10 }");
        assert_eq!(e.at(3, 1), 1.0);
    }

    #[test]
    fn validation_names_the_field() {
        let bad = ScheduleTable {
            period: None,
            ..table("{ kind = \"cosine\", min = 0, max = 1, period = 3 }")
        };
        assert!(bad
            .validate("optimizer.p")
            .unwrap_err()
            .contains("optimizer.p.period"));
        let extra = ScheduleTable {
            value: Some(1.0),
            ..table("{ kind = \"cosine\", min = 0, max = 1, period = 3 }")
        };
        assert!(extra
            .validate("optimizer.lr")
            .unwrap_err()
            .contains("optimizer.lr.value is not used"));
        #[derive(Deserialize, Debug)]
        struct W {
            #[allow(dead_code)]
            s: Hyper,
        }
        let err = toml::from_str::<W>("s = { kind = \"cosine\", mni = 0 }")
            .unwrap_err()
            .to_string();
        assert!(err.contains("mni"), "{err}");
    }
}
