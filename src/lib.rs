//! bandwise: measure how an optimizer spreads learning across frequencies.
