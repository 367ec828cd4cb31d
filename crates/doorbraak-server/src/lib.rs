//! doorbraak-server
