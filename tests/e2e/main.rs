//! End-to-end tests: the real server over real HTTP, on a SQLite file and
//! on a throwaway PostgreSQL cluster. One binary, one module per subject.

mod support;

mod cli;
mod conformance;
mod durability;
mod errors;
mod fuzz;
mod generate;
mod hostile;
mod ladder;
mod lists;
mod matrix;
mod notify;
mod oidc;
mod outage;
mod register;
mod schema;
mod scope;
mod statistics;
mod subscriptions;
mod volume;
mod web;
