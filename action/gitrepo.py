"""Git plumbing for the action: resolve commits, fetch what a shallow checkout lacks.

Every git call goes through `Git.run`, which never uses a shell and raises `ActionError` (exit 2)
with git's own message when a command that must succeed fails.
"""

import os
import subprocess

ZERO_SHA = "0" * 40

# How far to deepen a shallow checkout, step by step, before fetching the whole history.
DEEPEN_STEPS = (50, 250, 1000)


class ActionError(Exception):
    """The action could not do what it was asked: exit 2 with this message."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


def log(message):
    print(message, flush=True)


class Git:
    def __init__(self, path):
        self.path = path
        self.env = dict(os.environ)
        # Never prompt for credentials on a fetch (a CI step cannot answer).
        self.env["GIT_TERMINAL_PROMPT"] = "0"
        for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
            self.env.pop(var, None)

    def run(self, *args, check=True):
        """Runs `git ARGS` in the repository; returns (code, stdout, stderr)."""
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.path,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
            )
        except FileNotFoundError:
            raise ActionError("git is not installed (it is needed to read the history)")
        if check and proc.returncode != 0:
            raise ActionError(
                "git {} failed ({}): {}".format(
                    " ".join(args), proc.returncode, proc.stderr.strip()
                )
            )
        return proc.returncode, proc.stdout, proc.stderr

    def out(self, *args):
        return self.run(*args)[1].strip()

    def toplevel(self):
        code, out, err = self.run("rev-parse", "--show-toplevel", check=False)
        if code != 0:
            raise ActionError(
                "{} is not a git repository: {} (check out the repository first, with "
                "actions/checkout)".format(self.path, err.strip())
            )
        return out.strip()

    def is_shallow(self):
        return self.out("rev-parse", "--is-shallow-repository") == "true"

    def shallow_commits(self):
        shallow = self.out("rev-parse", "--git-path", "shallow")
        if not os.path.isabs(shallow):
            shallow = os.path.join(self.path, shallow)
        try:
            with open(shallow, encoding="ascii", errors="replace") as f:
                return {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    def has_commit(self, rev):
        code, _, _ = self.run("cat-file", "-e", rev + "^{commit}", check=False)
        return code == 0

    def resolve(self, rev):
        """The commit id `rev` names, or None."""
        code, out, _ = self.run("rev-parse", "--verify", "--quiet", rev + "^{commit}", check=False)
        return out.strip() if code == 0 and out.strip() else None

    def remote(self):
        """The remote to fetch from: `origin`, else the first one, else None."""
        remotes = self.out("remote").split()
        if "origin" in remotes:
            return "origin"
        return remotes[0] if remotes else None

    def fetch_opts(self, opts, refs):
        """`git fetch --no-tags OPTS REMOTE REFS`; True when it succeeded (failures are logged)."""
        remote = self.remote()
        if remote is None:
            return False
        code, _, err = self.run("fetch", "--no-tags", "--quiet", *opts, remote, *refs, check=False)
        if code != 0:
            log("git fetch {} {} {}: {}".format(" ".join(opts), remote, " ".join(refs), err.strip()))
        return code == 0

    def ensure_commit(self, sha, what):
        """Makes sure commit `sha` is in the repository, fetching it when it is not."""
        if self.has_commit(sha):
            return
        remote = self.remote()
        if remote is None:
            raise ActionError(
                "commit {} ({}) is not in the repository and there is no remote to fetch it "
                "from".format(sha, what)
            )
        log("keysweep: fetching {} {} from {}".format(what, sha, remote))
        # In a shallow checkout fetch just the commit; the deepening below finds where it meets
        # the other end. In a complete one, fetch it with its history (keeps it complete).
        opts = ["--depth=1"] if self.is_shallow() else []
        self.fetch_opts(opts, [sha])
        if not self.has_commit(sha):
            raise ActionError(
                "commit {} ({}) is not in the repository and could not be fetched from {} "
                "(was it force-pushed away, or is the checkout of another repository?)".format(
                    sha, what, remote
                )
            )

    def range_complete(self, base, head):
        """True when every commit that `base...head` depends on is present (no shallow cut)."""
        if not self.is_shallow():
            return True
        shallow = self.shallow_commits()
        _, out, _ = self.run("rev-list", "{}...{}".format(base, head))
        return not (set(out.split()) & shallow)

    def ensure_range(self, base, head):
        """Fetches and deepens until BASE..HEAD can be walked completely, or raises."""
        self.ensure_commit(base, "base")
        self.ensure_commit(head, "head")
        for depth in DEEPEN_STEPS:
            if self.range_complete(base, head):
                return
            log("keysweep: shallow checkout, deepening by {} commits".format(depth))
            self.fetch_opts(["--deepen={}".format(depth)], [base, head])
        if self.range_complete(base, head):
            return
        log("keysweep: fetching the whole history of {} and {}".format(base[:12], head[:12]))
        self.fetch_opts(["--unshallow"], [base, head])
        if not self.range_complete(base, head):
            cut = sorted(self.shallow_commits())
            raise ActionError(
                "cannot read the history between {} and {}: the checkout is shallow at {} and "
                "fetching more failed (use actions/checkout with fetch-depth: 0)".format(
                    base, head, ", ".join(cut[:3])
                )
            )

    def ensure_full(self):
        """Fetches the whole history of a shallow checkout, or raises."""
        if not self.is_shallow():
            return
        log("keysweep: shallow checkout, fetching the whole history")
        self.fetch_opts(["--unshallow"], [])
        if self.is_shallow():
            raise ActionError(
                "the checkout is shallow and its whole history could not be fetched: a full "
                "scan would miss commits (use actions/checkout with fetch-depth: 0)"
            )

    def first_parent_chain(self, head):
        return self.out("rev-list", "--first-parent", head).split()

    def count(self, base, head):
        return int(self.out("rev-list", "--count", "{}..{}".format(base, head)) or "0")
