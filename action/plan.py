"""What to scan, from the inputs and the event that started the workflow.

A plan is one of:
- `Plan("diff", base, head)`: the commits HEAD has and BASE has not (`keysweep git --range`);
- `Plan("full")`: the whole history (`keysweep git`);
- `Plan("none", note=...)`: nothing to scan (a deleted branch, a push of no new commits).

Event values are read from the payload file ($GITHUB_EVENT_PATH), never from the command line.
"""

import json
import re

from gitrepo import ZERO_SHA, ActionError, log

SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")

PULL_REQUEST_EVENTS = (
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
)

RANGE_EVENTS = PULL_REQUEST_EVENTS + ("merge_group", "push")

# The webhook payload lists at most this many pushed commits; a list this long may be cut.
PUSH_COMMITS_LIMIT = 2048


class Plan:
    def __init__(self, kind, base=None, head=None, note=""):
        self.kind = kind
        self.base = base
        self.head = head
        self.note = note

    def describe(self, short=False):
        if self.kind == "diff":
            if short:
                return "{}..{}".format(self.base[:12], self.head[:12])
            return "{}..{}".format(self.base, self.head)
        if self.kind == "full":
            return "full history"
        return "nothing to scan"


def load_event(path):
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            event = json.load(f)
    except FileNotFoundError:
        raise ActionError("the event payload {} does not exist".format(path))
    except ValueError as e:
        raise ActionError("the event payload {} is not JSON: {}".format(path, e))
    return event if isinstance(event, dict) else {}


def event_sha(value, what):
    """A commit id from the payload, checked to be one (it reaches git as an argument)."""
    if not isinstance(value, str) or not SHA.match(value):
        raise ActionError("the event payload has no valid {} (got {!r})".format(what, value))
    return value


def check_rev(value, what):
    """A base/head input: a commit id or a ref name, never something git reads as an option."""
    if value.startswith("-") or any(c.isspace() or ord(c) < 32 for c in value) or ".." in value:
        raise ActionError("input {}: {!r} is not a commit or ref name".format(what, value))
    return value


def get(obj, *keys):
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def resolve_rev(git, rev, what):
    """The commit a base/head input names, fetching it if the checkout lacks it."""
    if SHA.match(rev):
        git.ensure_commit(rev, what)
        return rev
    sha = git.resolve(rev)
    if sha:
        return sha
    opts = ["--depth=1"] if git.is_shallow() else []
    if git.fetch_opts(opts, [rev]):
        sha = git.resolve("FETCH_HEAD")
    if not sha:
        raise ActionError("input {}: cannot resolve {!r} to a commit, here or on the remote".format(what, rev))
    return sha


def make_plan(git, inputs, event_name, event):
    """Chooses what to scan; fetches what the range needs. Raises ActionError when it cannot."""
    mode = inputs["mode"]
    if mode not in ("auto", "diff", "full"):
        raise ActionError("input mode: {!r} is not one of auto, diff, full".format(mode))
    if mode == "full":
        git.ensure_full()
        return Plan("full", note="mode: full")

    base_in = check_rev(inputs["base"], "base") if inputs["base"] else ""
    head_in = check_rev(inputs["head"], "head") if inputs["head"] else ""
    if base_in:
        head_rev = head_in or event_head(event_name, event) or "HEAD"
        base = resolve_rev(git, base_in, "base")
        head = resolve_rev(git, head_rev, "head")
        return diff_plan(git, base, head, "inputs base/head")

    if mode == "diff" and event_name not in RANGE_EVENTS:
        raise ActionError(
            "mode: diff, but the {} event gives no range: set the base input (and head), or "
            "use mode: auto or full".format(event_name or "(unknown)")
        )
    return plan_from_event(git, event_name, event, head_in)


def event_head(event_name, event):
    if event_name in PULL_REQUEST_EVENTS:
        return get(event, "pull_request", "head", "sha")
    if event_name == "merge_group":
        return get(event, "merge_group", "head_sha")
    if event_name == "push":
        after = get(event, "after")
        return after if after and after != ZERO_SHA else None
    return None


def diff_plan(git, base, head, why):
    if base == head:
        return Plan("none", note="base and head are the same commit {} ({}): nothing to scan".format(base[:12], why))
    git.ensure_range(base, head)
    if git.count(base, head) == 0:
        return Plan("none", note="{}..{} adds no commits ({}): nothing to scan".format(base[:12], head[:12], why))
    return Plan("diff", base, head, note=why)


def plan_from_event(git, event_name, event, head_in):
    if event_name in PULL_REQUEST_EVENTS:
        base = event_sha(get(event, "pull_request", "base", "sha"), "pull_request.base.sha")
        head = head_in or event_sha(get(event, "pull_request", "head", "sha"), "pull_request.head.sha")
        return diff_plan(git, base, resolve_rev(git, head, "head"), event_name)
    if event_name == "merge_group":
        base = event_sha(get(event, "merge_group", "base_sha"), "merge_group.base_sha")
        head = head_in or event_sha(get(event, "merge_group", "head_sha"), "merge_group.head_sha")
        return diff_plan(git, base, resolve_rev(git, head, "head"), event_name)
    if event_name == "push":
        return push_plan(git, event, head_in)
    # schedule, workflow_dispatch, release, ...: the whole history.
    git.ensure_full()
    return Plan("full", note="{} event".format(event_name or "no"))


def push_plan(git, event, head_in):
    before = get(event, "before") or ZERO_SHA
    after = get(event, "after") or ZERO_SHA
    ref = get(event, "ref") or ""
    if get(event, "deleted") or after == ZERO_SHA:
        return Plan("none", note="push deleted {}: nothing to scan".format(ref or "a ref"))
    after = event_sha(after, "after")
    head = resolve_rev(git, head_in, "head") if head_in else after
    if before == after:
        return Plan("none", note="push of {} with before == after ({}): nothing to scan".format(ref or "a ref", after[:12]))
    if before != ZERO_SHA:
        before = event_sha(before, "before")
        try:
            return diff_plan(git, before, resolve_rev(git, head, "head"), "push")
        except ActionError as e:
            if not get(event, "forced"):
                raise
            # A force-push may have dropped `before` from the remote: scan what the branch
            # adds instead (more than the push, never less).
            log("keysweep: forced push and {} is gone ({}); scanning what the branch adds".format(before[:12], e))
    return new_ref_plan(git, event, ref, resolve_rev(git, head, "head"))


def new_ref_plan(git, event, ref, head):
    """A new branch or tag: what it adds to the default branch, else the pushed commits."""
    default = get(event, "repository", "default_branch")
    if isinstance(default, str) and default and ref != "refs/heads/" + default:
        check_rev(default, "repository.default_branch")
        local = "refs/remotes/{}/{}".format(git.remote() or "origin", default)
        base = git.resolve(local)
        if not base:
            opts = ["--depth=1"] if git.is_shallow() else []
            git.fetch_opts(opts, ["+refs/heads/{}:{}".format(default, local)])
            base = git.resolve(local)
        if base:
            return diff_plan(git, base, head, "new {}: what it adds to {}".format(ref or "ref", default))
        log("keysweep: the default branch {} could not be fetched; scanning the pushed commits".format(default))
    return pushed_commits_plan(git, event, ref, head)


def pushed_commits_plan(git, event, ref, head):
    commits = get(event, "commits")
    ids = set()
    for c in commits if isinstance(commits, list) else []:
        cid = get(c, "id")
        if isinstance(cid, str) and SHA.match(cid):
            ids.add(cid)
    what = "new {}: its pushed commits".format(ref or "ref")
    if not ids:
        return Plan("none", note="new {} adds no commits: nothing to scan".format(ref or "ref"))
    if len(ids) >= PUSH_COMMITS_LIMIT:
        git.ensure_full()
        return Plan("full", note="new {} with {} or more commits: whole history".format(ref or "ref", PUSH_COMMITS_LIMIT))
    # Walk the first-parent chain from head to the first commit that was not pushed: that is
    # the base. Deepen a shallow checkout until the chain leaves the pushed commits.
    for attempt in range(5):
        chain = git.first_parent_chain(head)
        outside = next((c for c in chain if c not in ids), None)
        if outside:
            return diff_plan(git, outside, head, what)
        if not git.is_shallow() or chain[-1] not in git.shallow_commits():
            # The chain ends in a root commit: every commit of it was pushed.
            return Plan("full", note=what + " (from the root commit): whole history")
        if attempt < 3:
            git.fetch_opts(["--deepen={}".format(len(ids) + 1)], [head])
        else:
            git.ensure_full()
    raise ActionError("cannot find the parent of the pushed commits of {} below {}".format(ref, head))
