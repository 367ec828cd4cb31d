//! doorbraak-engine
