//! keysweep: finds leaked signing keys and JWT secrets, and proves which of them are live.
//!
//! Data flows one way: `source` → `scan` (prefilter, rule regexes) → `detect` (parse keys,
//! thumbprints) → `suppress` → `report`. `app` orchestrates a run; `cli` and `config` turn
//! the command line into a `Config`.

pub mod app;
pub mod cli;
pub mod config;
pub mod detect;
pub mod finding;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;
pub mod verify;
