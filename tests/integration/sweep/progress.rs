//! The progress line: drawn on stderr when it is a terminal, never otherwise, never with
//! `--quiet`.

use crate::support::{Ks, Tree, random_secret};

/// A tree that takes about a second to sweep with the test delay, so the line is drawn.
fn slow_tree() -> Tree {
    let tree = Tree::new();
    for i in 0..25 {
        tree.write(
            &format!("p{i}/.env"),
            format!("JWT_SECRET={}\n", random_secret(32)),
        );
    }
    tree
}

fn sweep(tree: &Tree, extra: &[&str]) -> Ks {
    Ks::new("sweep")
        .arg(tree.root())
        .args([
            "--no-config",
            "--threads",
            "1",
            "--format",
            "json",
            "-o",
            "/dev/null",
        ])
        .args(extra)
        .env("KEYSWEEP_TEST_FILE_DELAY_MS", "40")
}

#[test]
fn progress_is_shown_on_a_terminal_only() {
    let tree = slow_tree();
    let on_terminal = sweep(&tree, &[]).run_on_terminal();
    let text = on_terminal.stdout_str();
    assert!(
        text.contains("files,") && text.contains("MB/s") && text.contains("findings"),
        "progress on a terminal: {text:?}"
    );

    let quiet = sweep(&tree, &["--quiet"]).run_on_terminal();
    assert!(
        !quiet.stdout_str().contains("MB/s"),
        "--quiet: {:?}",
        quiet.stdout_str()
    );

    let piped = sweep(&tree, &[]).run();
    assert!(
        !piped.stderr_str().contains("MB/s"),
        "stderr not a terminal: {:?}",
        piped.stderr_str()
    );
}
