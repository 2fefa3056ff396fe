//! Table-driven tests: every row runs (in its own thread, named after the row) and the test fails
//! naming each row that failed.

/// One row of a table: its name appears in the panic message of a failing row and in the list of
/// failed rows.
pub trait Case: Sync {
    fn name(&self) -> &str;
}

/// Runs `check` on every case in parallel; panics listing the cases that failed.
pub fn run_table<C: Case>(cases: &[C], check: impl Fn(&C) + Sync) {
    let check = &check;
    let failed: Vec<&str> = std::thread::scope(|scope| {
        let running: Vec<_> = cases
            .iter()
            .map(|case| {
                let thread = std::thread::Builder::new()
                    .name(case.name().to_string())
                    .spawn_scoped(scope, move || check(case))
                    .expect("spawn a case thread");
                (case.name(), thread)
            })
            .collect();
        running
            .into_iter()
            .filter_map(|(name, thread)| thread.join().is_err().then_some(name))
            .collect()
    });
    assert!(
        failed.is_empty(),
        "{} of {} case(s) failed (each case's panic is printed above, under its name): {failed:?}",
        failed.len(),
        cases.len()
    );
}
