#!/usr/bin/env python3
"""keysweep's GitHub Action, runnable (and tested) outside GitHub.

    python3 action/main.py cache-key   # the install cache key and root ($GITHUB_OUTPUT)
    python3 action/main.py scan        # choose the range, run keysweep, report, gate

Inputs arrive as INPUT_<NAME> environment variables (action.yml maps each `inputs.<name>` to
one, dashes as underscores); event values come from $GITHUB_EVENT_PATH. Nothing from the event
is ever spliced into a shell command. Exit codes of `scan`: 0 passed, 1 findings at or above
fail-on, 2 could not run (a message says why).
"""

import hashlib
import json
import os
import shlex
import subprocess
import sys
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the action's checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import results  # noqa: E402
from gitrepo import ActionError, Git, log  # noqa: E402
from plan import load_event, make_plan  # noqa: E402

ACTION_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Every input the scripts read, with its default (action.yml declares the same; a test checks).
INPUTS = {
    "path": ".",
    "mode": "auto",
    "base": "",
    "head": "",
    "jwks": "",
    "issuer": "",
    "config": "",
    "sarif-file": "",
    "upload-sarif": "true",
    "category": "",
    "fail-on": "any",
    "args": "",
}


def read_inputs():
    return {
        name: os.environ.get("INPUT_" + name.upper().replace("-", "_"), default).strip() or default
        for name, default in INPUTS.items()
    }


def truthy(value):
    return value.strip().lower() in ("true", "yes", "1", "on")


def words(value):
    """A list input: one item per line, or separated by commas or spaces."""
    return [w for w in value.replace(",", " ").split() if w]


def append(path, content):
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(content)


# --- cache-key ---------------------------------------------------------------------------------


def source_digest(root):
    """SHA-256 over the files `cargo install` builds from, so a moved ref rebuilds."""
    h = hashlib.sha256()
    names = ["Cargo.toml", "Cargo.lock"]
    for top in ("src", "rules"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            names.extend(os.path.relpath(os.path.join(dirpath, f), root) for f in sorted(filenames))
    for name in names:
        h.update(name.encode() + b"\0")
        try:
            with open(os.path.join(root, name), "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
        except FileNotFoundError:
            h.update(b"-")
    return h.hexdigest()


def cache_key():
    root = os.environ.get("GITHUB_ACTION_PATH") or ACTION_ROOT
    with open(os.path.join(root, "Cargo.lock"), "rb") as f:
        lock = hashlib.sha256(f.read()).hexdigest()
    ref = os.environ.get("KS_ACTION_REF") or os.environ.get("GITHUB_ACTION_REF") or "local"
    ref = "".join(c if c.isalnum() or c in "._-" else "-" for c in ref)[:64]
    key = "keysweep-{}-{}-{}-{}-lock{}-src{}".format(
        os.environ.get("RUNNER_OS", "os"),
        os.environ.get("RUNNER_ARCH", "arch"),
        os.environ.get("ImageOS", "image"),
        ref,
        lock[:16],
        source_digest(root)[:16],
    )
    install_root = os.path.join(os.environ.get("RUNNER_TEMP") or "/tmp", "keysweep-action")
    values = {"key": key, "root": install_root}
    append(os.environ.get("GITHUB_OUTPUT"), results.outputs(values))
    log("keysweep install cache key: " + key)
    return 0


# --- scan --------------------------------------------------------------------------------------


def is_fork_pull_request(event_name, event):
    if event_name not in ("pull_request", "pull_request_review", "pull_request_review_comment"):
        return False
    pr = event.get("pull_request") or {}
    head = ((pr.get("head") or {}).get("repo") or {}).get("full_name")
    base = ((pr.get("base") or {}).get("repo") or {}).get("full_name")
    return bool(head and base and head != base) or bool(((pr.get("head") or {}).get("repo") or {}).get("fork"))


def upload_ref(event_name, event):
    """The ref and commit the SARIF belongs to, where upload-sarif's defaults are wrong.

    pull_request_target runs on the base branch (GITHUB_REF, GITHUB_SHA): its findings belong to
    the pull request's head, not to the base branch's alerts.
    """
    if event_name != "pull_request_target":
        return "", ""
    pr = event.get("pull_request") or {}
    number = pr.get("number") or event.get("number")
    sha = (pr.get("head") or {}).get("sha")
    if isinstance(number, int) and isinstance(sha, str) and sha:
        return "refs/pull/{}/head".format(number), sha
    return "", ""


def report_paths(inputs, temp):
    sarif = inputs["sarif-file"] or os.path.join(temp, "keysweep.sarif")
    sarif = os.path.abspath(sarif)
    base = sarif[: -len(".sarif")] if sarif.endswith(".sarif") else sarif
    return sarif, base + ".json"


def keysweep_command(binary, root, plan, inputs, sarif, json_file):
    cmd = [binary, "git", root]
    if plan.kind == "diff":
        cmd += ["--range", "{}..{}".format(plan.base, plan.head)]
    cmd += ["--format", "human", "--report", "sarif:" + sarif, "--report", "json:" + json_file]
    for url in words(inputs["jwks"]):
        cmd += ["--jwks", url]
    for url in words(inputs["issuer"]):
        cmd += ["--issuer", url]
    if inputs["config"]:
        cmd += ["--config", inputs["config"]]
    try:
        cmd += shlex.split(inputs["args"])
    except ValueError as e:
        raise ActionError("input args: {}".format(e))
    return cmd


def run_keysweep(cmd):
    """Runs keysweep with its output in a log group, workflow commands in it disabled."""
    token = uuid.uuid4().hex
    print("::group::keysweep " + results.text(" ".join(shlex.quote(c) for c in cmd[1:])), flush=True)
    # Paths and text in keysweep's output come from the repository: never let a line of it be
    # read as a workflow command.
    print("::stop-commands::" + token, flush=True)
    try:
        code = subprocess.call(cmd, stdin=subprocess.DEVNULL)
    except OSError as e:
        raise ActionError("cannot run keysweep ({}): {}".format(cmd[0], e))
    finally:
        print("::" + token + "::", flush=True)
        print("::endgroup::", flush=True)
    return code


def set_category(sarif_path, category):
    """Reads (and with the category input, sets) automationDetails.id of the one SARIF run."""
    with open(sarif_path, encoding="utf-8") as f:
        sarif = json.load(f)
    runs = sarif.get("runs") or []
    if len(runs) != 1:
        raise ActionError("{} holds {} SARIF runs; upload-sarif needs exactly one".format(sarif_path, len(runs)))
    if category:
        if not category.endswith("/"):
            category += "/"
        runs[0]["automationDetails"] = dict(runs[0].get("automationDetails") or {}, id=category)
        with open(sarif_path, "w", encoding="utf-8") as f:
            json.dump(sarif, f, indent=2)
            f.write("\n")
    return ((runs[0].get("automationDetails") or {}).get("id")) or "keysweep/"


def scan():
    inputs = read_inputs()
    outputs = {
        "findings": 0,
        "live": 0,
        "sarif-file": "",
        "json-file": "",
        "exit-code": 2,
        "range": "",
        "category": "",
        "upload": "false",
        "upload-ref": "",
        "upload-sha": "",
        "checkout-path": "",
    }
    out_file = os.environ.get("GITHUB_OUTPUT")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    try:
        code = scan_with(inputs, outputs, summary_file)
    except ActionError as e:
        print("::error title=keysweep could not run::" + results.escape_data(str(e)), flush=True)
        append(summary_file, "## keysweep\n\nCould not run: {}\n".format(results.md(str(e))))
        outputs["exit-code"] = e.code
        code = e.code
    append(out_file, results.outputs(outputs))
    return code


def scan_with(inputs, outputs, summary_file):
    try:
        fail_on = results.check_fail_on(inputs["fail-on"])
    except ValueError as e:
        raise ActionError(str(e))
    workspace = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    path = os.path.join(workspace, inputs["path"])
    git = Git(path)
    root = git.toplevel()
    outputs["checkout-path"] = root
    event_name = os.environ.get("GITHUB_EVENT_NAME", "")
    event = load_event(os.environ.get("GITHUB_EVENT_PATH"))

    plan = make_plan(git, inputs, event_name, event)
    outputs["range"] = plan.describe() if plan.kind != "none" else ""
    if plan.kind == "none":
        log("keysweep: " + plan.note)
        append(summary_file, "## keysweep\n\n{}\n".format(results.md(plan.note[:1].upper() + plan.note[1:])))
        outputs["exit-code"] = 0
        return 0
    log("keysweep: scanning {} ({})".format(plan.describe(), plan.note))

    temp = os.environ.get("RUNNER_TEMP") or workspace
    sarif, json_file = report_paths(inputs, temp)
    for p in (sarif, json_file):
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.exists(p):
            os.remove(p)
    binary = os.environ.get("KEYSWEEP_BIN") or "keysweep"
    code = run_keysweep(keysweep_command(binary, root, plan, inputs, sarif, json_file))
    outputs["exit-code"] = code
    if code not in (0, 1):
        raise ActionError("keysweep exited with {} (see its messages above)".format(code), code=2)
    try:
        with open(json_file, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        raise ActionError("keysweep wrote no readable JSON report {}: {}".format(json_file, e))
    if not os.path.exists(sarif):
        raise ActionError("keysweep wrote no SARIF report {}".format(sarif))
    outputs["category"] = set_category(sarif, inputs["category"])
    outputs["sarif-file"] = sarif
    outputs["json-file"] = json_file

    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    failed = results.failing(findings, fail_on)
    outputs["findings"] = len(findings)
    outputs["live"] = len(results.proven(findings))

    notes = []
    if truthy(inputs["upload-sarif"]):
        if is_fork_pull_request(event_name, event):
            notes.append("SARIF not uploaded: a pull request from a fork gets a read-only token.")
            log("keysweep: " + notes[-1])
        else:
            outputs["upload"] = "true"
            outputs["upload-ref"], outputs["upload-sha"] = upload_ref(event_name, event)

    # Annotations point into the workspace: prefix the repository's place in it.
    prefix = os.path.relpath(os.path.realpath(root), os.path.realpath(workspace))
    prefix = "" if prefix == "." or prefix.startswith("..") else prefix.replace(os.sep, "/") + "/"
    for line in results.annotations(findings, prefix):
        print(line, flush=True)
    if len(findings) > results.MAX_ANNOTATIONS:
        log("keysweep: {} findings; the {} most urgent are annotated, all are in the job summary".format(
            len(findings), results.MAX_ANNOTATIONS))

    server = os.environ.get("GITHUB_SERVER_URL")
    repo = os.environ.get("GITHUB_REPOSITORY")
    commit_url = "{}/{}/commit".format(server, repo) if server and repo else None
    limit = int(os.environ.get("KEYSWEEP_SUMMARY_LIMIT") or results.SUMMARY_LIMIT)
    append(summary_file, results.summary(report, findings, fail_on, failed, plan.describe(short=True), commit_url, limit, notes))

    if failed:
        log("keysweep: {} finding{} at or above fail-on {}".format(len(failed), "" if len(failed) == 1 else "s", fail_on))
        return 1
    if findings:
        log("keysweep: {} finding{}, none at or above fail-on {}".format(len(findings), "" if len(findings) == 1 else "s", fail_on))
    return 0


def main(argv):
    if len(argv) != 2 or argv[1] not in ("scan", "cache-key"):
        print("usage: main.py scan|cache-key", file=sys.stderr)
        return 2
    try:
        return cache_key() if argv[1] == "cache-key" else scan()
    except ActionError as e:
        print("::error::" + results.escape_data(str(e)), flush=True)
        return e.code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
