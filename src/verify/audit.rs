//! `keysweep jwks audit`: hygiene of a published key set.

use anyhow::bail;

use crate::cli::JwksAuditArgs;

/// Run `keysweep jwks audit`; returns whether any defect was found.
pub fn run(args: &JwksAuditArgs) -> anyhow::Result<bool> {
    let _ = args;
    bail!("keysweep jwks audit is not implemented yet")
}
