//! keysweep: finds leaked signing keys and JWT secrets, and proves which of them are live.
//!
//! Data flows one way: `source` (files, git history, the index) pushes blobs into the scan
//! workers of `app::pipeline` → `scan` (prefilter, rule regexes, decoding) → `detect` (parse
//! keys, thumbprints) → `collect` (group as found) → `verify` → `suppress` → `report` (several
//! sinks at once, `jsonl` streamed). `cli` and `config` turn the command line into one
//! `Config`; `app` runs it. `ARCHITECTURE.md` has the module map.

pub mod app;
pub mod cli;
pub mod collect;
pub mod config;
pub mod context;
pub mod detect;
pub mod encoding;
pub mod finding;
pub mod report;
pub mod rules;
pub mod scan;
pub mod seal;
pub mod source;
pub mod suppress;
pub mod verify;
