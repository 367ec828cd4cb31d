//! doorbraak-graphql
