//! keysweep's integration tests: one binary, one module per area, shared helpers in `support`.
//!
//! Run one area with `cargo test --test integration AREA::` (for example `verify::`).

mod support;

mod action;
mod adversarial;
mod detectors;
mod git;
mod hostile;
mod install_hook;
mod jwks_audit;
mod negative;
mod output;
mod pipeline;
mod precommit;
mod properties;
mod recipes;
mod repos;
mod robustness;
mod rules;
mod settings;
mod staged;
mod sweep;
mod vectors;
mod verify;
