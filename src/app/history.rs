//! `keysweep git` and `keysweep staged`: history and index scans (see the git issue).

use anyhow::bail;

use crate::cli::{GitArgs, StagedArgs};

/// Run `keysweep git`.
pub fn git(args: &GitArgs) -> anyhow::Result<bool> {
    let _ = args;
    bail!("keysweep git is not implemented yet")
}

/// Run `keysweep staged`.
pub fn staged(args: &StagedArgs) -> anyhow::Result<bool> {
    let _ = args;
    bail!("keysweep staged is not implemented yet")
}
