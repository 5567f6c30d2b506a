//! The optimizer registry: name -> definition, and the resolution of an `[optimizer]` config
//! table (validated against the definition's declared hyperparameters, defaults filled in).

use super::{
    short_number, HyperValues, Optimizer, OptimizerDef, ParamDoc, ParamKind, Settings, LR,
};
use crate::base::scalar::Scalar;
use crate::base::suggest::did_you_mean;
use crate::optim::schedule::{Hyper, Schedule, ScheduleTable};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// The `[optimizer]` table of a config: a name and that optimizer's hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    pub name: String,
    #[serde(flatten)]
    pub settings: toml::Table,
}

type Builder<S> = fn(&Settings, usize) -> Box<dyn Optimizer<S>>;
type Check = fn(&Settings, &[(&'static str, Schedule)]) -> Result<(), String>;

/// A registered optimizer.
#[derive(Clone)]
pub struct Entry {
    pub name: &'static str,
    pub about: &'static str,
    pub params: &'static [ParamDoc],
    build_f32: Builder<f32>,
    build_f64: Builder<f64>,
    check: Check,
}

/// Optimizers known by name. [`Registry::builtin`] holds sgd, adam, adamw, rmsprop, padam.
#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<Entry>,
}

/// An optimizer config checked against its definition: every hyperparameter present
/// (defaults filled in), floats as schedules.
#[derive(Clone)]
pub struct ResolvedOptimizer {
    pub entry: Entry,
    /// Float hyperparameters including lr, in declaration order (lr first).
    pub floats: Vec<(&'static str, Schedule)>,
    pub settings: Settings,
    /// Each float's table as written (defaults filled in), recorded in run.json.
    tables: Vec<ScheduleTable>,
}

impl Registry {
    /// The built-in optimizers.
    pub fn builtin() -> Self {
        let mut r = Registry::default();
        r.register::<super::Sgd<f64>>().expect("unique");
        r.register::<super::Adam<f64>>().expect("unique");
        r.register::<super::AdamW>().expect("unique");
        r.register::<super::RmsProp<f64>>().expect("unique");
        r.register::<super::PAdam<f64>>().expect("unique");
        r
    }

    /// Add an optimizer; a name that is already registered is an error.
    pub fn register<D: OptimizerDef>(&mut self) -> Result<()> {
        if self.get(D::NAME).is_some() {
            bail!(
                "an optimizer named `{}` is already registered; choose another name",
                D::NAME
            );
        }
        if let Some(p) = D::PARAMS
            .iter()
            .find(|p| p.name == "lr" || p.name == "name")
        {
            bail!(
                "optimizer `{}` declares `{}`, which is reserved",
                D::NAME,
                p.name
            );
        }
        for p in D::PARAMS {
            if let ParamKind::Float {
                default: Some(d),
                range,
            } = p.kind
            {
                if !range.contains(d) {
                    bail!(
                        "optimizer `{}` declares {} = {d} as default, outside its own range ({range})",
                        D::NAME,
                        p.name
                    );
                }
            }
        }
        self.entries.push(Entry {
            name: D::NAME,
            about: D::ABOUT,
            params: D::PARAMS,
            build_f32: D::build::<f32>,
            build_f64: D::build::<f64>,
            check: D::check,
        });
        Ok(())
    }

    /// Add an optimizer that bandwise does not train itself: its configs are validated against
    /// `params` like any other, but building it panics with a message naming the external
    /// trainer that must run it (see [`crate::engine::external`]). A name already registered is an error.
    pub fn register_external(
        &mut self,
        name: &'static str,
        about: &'static str,
        params: &'static [ParamDoc],
    ) -> Result<()> {
        if self.get(name).is_some() {
            bail!("an optimizer named `{name}` is already registered; choose another name");
        }
        fn external<S: Scalar>(_: &Settings, _: usize) -> Box<dyn Optimizer<S>> {
            panic!("this optimizer runs outside bandwise (an external trainer such as bandwise.torch must train it)")
        }
        self.entries.push(Entry {
            name,
            about,
            params,
            build_f32: external::<f32>,
            build_f64: external::<f64>,
            check: |_, _| Ok(()),
        });
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Check `config` against its optimizer's declaration and fill in defaults.
    /// Errors name the field (`optimizer.<key>`) and what is allowed.
    pub fn resolve(&self, config: &OptimizerConfig) -> Result<ResolvedOptimizer> {
        let names: Vec<&str> = self.entries.iter().map(|e| e.name).collect();
        let entry = self.get(&config.name).with_context(|| {
            format!(
                "optimizer.name = \"{}\" is not a registered optimizer; known: {}{}",
                config.name,
                names.join(", "),
                did_you_mean(&config.name, &names)
            )
        })?;
        let declared: Vec<&ParamDoc> = std::iter::once(&LR).chain(entry.params.iter()).collect();
        let declared_names: Vec<&str> = declared.iter().map(|p| p.name).collect();
        for key in config.settings.keys() {
            if !declared_names.contains(&key.as_str()) {
                bail!(
                    "optimizer.{key} is not a hyperparameter of `{}` (it takes {}){}",
                    entry.name,
                    declared_names.join(", "),
                    did_you_mean(key, &declared_names)
                );
            }
        }
        let mut resolved = ResolvedOptimizer {
            entry: entry.clone(),
            floats: Vec::new(),
            settings: Settings::default(),
            tables: Vec::new(),
        };
        for doc in declared {
            let path = format!("optimizer.{}", doc.name);
            let value = config.settings.get(doc.name);
            match doc.kind {
                ParamKind::Float { default, range } => {
                    let table = match (value, default) {
                        (Some(v), _) => {
                            let hyper: Hyper =
                                v.clone().try_into().map_err(|e: toml::de::Error| {
                                    anyhow::anyhow!("{path}: {}", e.message())
                                })?;
                            hyper.table()
                        }
                        (None, Some(d)) => ScheduleTable::constant(d),
                        (None, None) => {
                            bail!("{path} is required by `{}` ({})", entry.name, doc.doc)
                        }
                    };
                    let schedule = table.validate(&path).map_err(anyhow::Error::msg)?;
                    if let Some(bad) = schedule
                        .extremes()
                        .into_iter()
                        .find(|&x| !range.contains(x))
                    {
                        let what = if schedule.as_constant().is_some() {
                            "got"
                        } else {
                            "its schedule reaches"
                        };
                        bail!(
                            "{path} must be {range} ({}); {what} {}",
                            doc.doc,
                            short_number(bad)
                        );
                    }
                    resolved.floats.push((doc.name, schedule));
                    resolved.tables.push(table);
                }
                ParamKind::Flag { default } => {
                    let flag = match value {
                        None => default,
                        Some(toml::Value::Boolean(b)) => *b,
                        Some(other) => bail!("{path} must be true or false, got {other}"),
                    };
                    resolved.settings.flags.push((doc.name, flag));
                }
                ParamKind::Choice { options, default } => {
                    let choice = match value {
                        None => default.to_string(),
                        Some(toml::Value::String(s)) if options.contains(&s.as_str()) => s.clone(),
                        Some(other) => bail!("{path} must be one of {:?}, got {other}", options),
                    };
                    resolved.settings.choices.push((doc.name, choice));
                }
            }
        }
        (entry.check)(&resolved.settings, &resolved.floats).map_err(anyhow::Error::msg)?;
        Ok(resolved)
    }
}

impl ResolvedOptimizer {
    /// Build the optimizer in scalar type `S` for `n_params` parameters.
    pub fn build<S: Scalar>(&self, n_params: usize) -> Box<dyn Optimizer<S>> {
        // Dispatch on the concrete type without specialisation: both builders exist.
        let any: Box<dyn std::any::Any> = if S::NAME == "f32" {
            Box::new((self.entry.build_f32)(&self.settings, n_params))
        } else {
            Box::new((self.entry.build_f64)(&self.settings, n_params))
        };
        *any.downcast::<Box<dyn Optimizer<S>>>()
            .expect("S is f32 or f64")
    }

    /// A fresh value holder for every float hyperparameter, lr first.
    pub fn hyper_values(&self) -> HyperValues {
        HyperValues::new(self.floats.iter().map(|(n, _)| *n).collect())
    }

    /// Evaluate every schedule at (step, epoch) into `hv` (no allocation).
    pub fn fill(&self, hv: &mut HyperValues, step: u64, epoch: u64) {
        for (v, (_, s)) in hv.values_mut().iter_mut().zip(&self.floats) {
            *v = s.at(step, epoch);
        }
    }

    /// Names of the float hyperparameters that are not constant.
    pub fn scheduled(&self) -> Vec<&'static str> {
        self.floats
            .iter()
            .filter(|(_, s)| s.as_constant().is_none())
            .map(|(n, _)| *n)
            .collect()
    }

    /// The config with every default filled in, for run.json.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("name".into(), self.entry.name.into());
        for ((name, s), table) in self.floats.iter().zip(&self.tables) {
            let v = match s.as_constant() {
                Some(c) => serde_json::json!(c),
                None => serde_json::to_value(table).expect("schedule serialises"),
            };
            map.insert((*name).into(), v);
        }
        for (name, b) in &self.settings.flags {
            map.insert((*name).into(), (*b).into());
        }
        for (name, c) in &self.settings.choices {
            map.insert((*name).into(), c.clone().into());
        }
        serde_json::Value::Object(map)
    }
}

#[cfg(test)]
// `&[0..n]` is a list of one tensor's index range, not a mistaken range vector.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    fn config(s: &str) -> OptimizerConfig {
        toml::from_str(s).unwrap()
    }

    #[test]
    fn resolves_defaults_and_schedules() {
        let r = Registry::builtin();
        let res = r
            .resolve(&config("name = \"padam\"\nlr = 1e-3\np = { kind = \"cosine\", min = -0.5, max = 0.5, period = 50 }"))
            .unwrap();
        let names: Vec<_> = res.floats.iter().map(|f| f.0).collect();
        assert_eq!(
            names,
            [
                "lr",
                "p",
                "beta1",
                "beta2",
                "eps",
                "weight_decay",
                "v_floor"
            ]
        );
        assert_eq!(res.scheduled(), ["p"]);
        let mut hv = res.hyper_values();
        res.fill(&mut hv, 0, 25);
        assert!((hv.get("p") + 0.5).abs() < 1e-12);
        assert_eq!(hv.get("lr"), 1e-3);
        assert_eq!(res.settings.choice("normalize"), "none");
        assert_eq!(res.to_json()["beta2"], 0.999);
    }

    #[test]
    fn errors_name_the_field() {
        let r = Registry::builtin();
        let e = r
            .resolve(&config("name = \"padma\"\nlr = 1"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("optimizer.name") && e.contains("did you mean `padam`"),
            "{e}"
        );
        let e = r
            .resolve(&config("name = \"padam\"\nlr = 1\np = 0.5\nbeta = 0.9"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("optimizer.beta ") && e.contains("beta1"), "{e}");
        let e = r
            .resolve(&config("name = \"padam\"\nlr = 1"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("optimizer.p is required"), "{e}");
        let e = r
            .resolve(&config(
                "name = \"padam\"\nlr = 1\np = 0\nnormalize = \"l2\"",
            ))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("optimizer.normalize") && e.contains("rms"),
            "{e}"
        );
        let e = r
            .resolve(&config(
                "name = \"sgd\"\nlr = { kind = \"cosine\", min = 0 }",
            ))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("optimizer.lr.max"), "{e}");
        let e = r
            .resolve(&config("name = \"sgd\"\nlr = 0.1\nnesterov = 1"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("optimizer.nesterov must be true or false"),
            "{e}"
        );
    }

    #[test]
    fn every_value_is_range_checked() {
        let r = Registry::builtin();
        let err = |s: &str| r.resolve(&config(s)).err().unwrap().to_string();
        for (cfg, field, range) in [
            ("name = \"sgd\"\nlr = -0.1", "optimizer.lr ", ">= 0"),
            (
                "name = \"adam\"\nlr = 0.1\nbeta2 = 1",
                "optimizer.beta2 ",
                "in [0, 1)",
            ),
            (
                "name = \"adam\"\nlr = 0.1\nbeta1 = -0.1",
                "optimizer.beta1 ",
                "in [0, 1)",
            ),
            (
                "name = \"adam\"\nlr = 0.1\neps = -1e-8",
                "optimizer.eps ",
                ">= 0",
            ),
            (
                "name = \"sgd\"\nlr = 0.1\nmomentum = -0.5",
                "optimizer.momentum ",
                "in [0, 1)",
            ),
            (
                "name = \"padam\"\nlr = 0.1\np = 0\nv_floor = 0",
                "optimizer.v_floor ",
                "> 0",
            ),
            // A schedule is checked at its extremes.
            (
                "name = \"adam\"\nlr = { kind = \"cosine\", min = -1e-3, max = 1e-3, period = 10 }",
                "optimizer.lr ",
                "reaches -1e-3",
            ),
        ] {
            let e = err(cfg);
            assert!(e.contains(field) && e.contains(range), "{cfg}: {e}");
        }
        let e = err("name = \"sgd\"\nlr = 0.1\nnesterov = true");
        assert!(
            e.contains("optimizer.nesterov") && e.contains("optimizer.momentum"),
            "{e}"
        );
        r.resolve(&config(
            "name = \"sgd\"\nlr = 0\nnesterov = true\nmomentum = 0.9",
        ))
        .unwrap();
    }

    #[test]
    fn plug_in_defaults_must_lie_in_their_range() {
        struct Bad;
        impl OptimizerDef for Bad {
            const NAME: &'static str = "bad";
            const ABOUT: &'static str = "";
            const PARAMS: &'static [ParamDoc] =
                &[ParamDoc::float("beta", 1.5, "").within(super::super::ValidRange::COEFFICIENT)];
            fn build<S: Scalar>(_: &Settings, _: usize) -> Box<dyn Optimizer<S>> {
                unreachable!()
            }
        }
        let e = Registry::builtin()
            .register::<Bad>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("beta = 1.5") && e.contains("[0, 1)"), "{e}");
    }

    #[test]
    fn duplicate_registration_is_an_error() {
        let mut r = Registry::builtin();
        let e = r
            .register::<super::super::Adam<f64>>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("already registered"));
    }

    #[test]
    fn builds_both_precisions() {
        let r = Registry::builtin();
        let res = r.resolve(&config("name = \"adam\"\nlr = 0.1")).unwrap();
        let mut hv = res.hyper_values();
        res.fill(&mut hv, 0, 0);
        let mut x32 = [1.0f32];
        res.build::<f32>(1)
            .update(1, &hv, &mut x32, &[1.0], std::slice::from_ref(&(0..1)));
        let mut x64 = [1.0f64];
        res.build::<f64>(1)
            .update(1, &hv, &mut x64, &[1.0], std::slice::from_ref(&(0..1)));
        assert!((x32[0] as f64 - x64[0]).abs() < 1e-6 && (x64[0] - 0.9).abs() < 1e-6);
    }
}
