//! bandwise: measure how an optimizer spreads learning across frequencies.

pub mod plot;
