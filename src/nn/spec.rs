//! The `[model]` table of a config: the MLP's shape, activation, initialisation and input map.

use crate::nn::model::{Activation, Init};
use serde::{Deserialize, Serialize};

/// `[model]`: the MLP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    #[serde(default)]
    pub activation: Activation,
    #[serde(default)]
    pub init: Init,
    /// The grid coordinate t in [0, 1) is fed to the network as lo + (hi - lo) t.
    #[serde(default = "default_input_range")]
    pub input_range: [f64; 2],
    /// Optional random Fourier-feature input mapping (Tancik et al. 2020): the network sees
    /// `[cos(2 pi B v), sin(2 pi B v)]` of the grid coordinates `v` in `[0, 1)^d` instead of
    /// the linear map given by `input_range`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fourier_features: Option<FourierFeaturesSpec>,
}

/// `[model] fourier_features = { count = 64, scale = 10.0 }`: `B` is `count x d` with entries
/// drawn from N(0, scale^2) (seeded from the run seed, stream `Features`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FourierFeaturesSpec {
    pub count: usize,
    pub scale: f64,
}

fn default_hidden() -> Vec<usize> {
    vec![64, 64]
}

fn default_input_range() -> [f64; 2] {
    [-1.0, 1.0]
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            hidden: default_hidden(),
            activation: Activation::default(),
            init: Init::default(),
            input_range: default_input_range(),
            fourier_features: None,
        }
    }
}
