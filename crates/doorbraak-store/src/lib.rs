//! doorbraak-store
