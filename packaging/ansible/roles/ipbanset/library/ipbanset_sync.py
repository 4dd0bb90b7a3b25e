#!/usr/bin/python3
# Role-local module: make one ipbanset source's bans exactly a list of targets.
#
# It runs `ipbanset sync` and takes `changed` from ipbanset's own --json output, so
# a run that only finds expired bans to renew still reports a change, and a run that
# changes nothing reports none. In check mode it runs `sync --dry-run`. With --diff
# it shows the targets that ipbanset names in that output (in address order, the
# first 1000 of each kind): withdrawn ones on the "before" side, new ones on the
# "after" side, renewed ones below; in check mode, what the dry run would change.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: ipbanset_sync
short_description: Keep one ipbanset source's bans equal to a list of targets
description:
  - Runs C(ipbanset sync --source SOURCE -f -) with the targets on standard input.
  - C(changed) is ipbanset's own C(changed) key; check mode runs C(--dry-run).
options:
  binary: {type: path, required: true, description: the ipbanset binary}
  config: {type: path, required: true, description: configuration file (-c)}
  db: {type: path, required: true, description: the journal (-d)}
  netns: {type: str, default: "", description: network namespace (--netns), empty for none}
  source: {type: str, required: true, description: the source that owns these bans}
  targets: {type: list, elements: str, required: true, description: addresses and prefixes}
  timeout: {type: str, required: true, description: ban duration (1d, 12h, permanent)}
  reason: {type: str, default: "", description: reason recorded with each ban}
  max_removals: {type: str, default: "", description: sync --max-removals N or P%}
  jitter: {type: str, default: "", description: sync --jitter DUR}
"""


def base_argv(p):
    argv = [p["binary"], "--config", p["config"], "--db", p["db"]]
    if p["netns"]:
        argv += ["--netns", p["netns"]]
    return argv


def run(module, argv, data=None):
    rc, out, err = module.run_command(argv, data=data, binary_data=True)
    if rc != 0:
        module.fail_json(msg=err.strip() or "%s exited %d" % (argv[0], rc),
                         rc=rc, cmd=argv, stdout=out, stderr=err)
    for line in err.splitlines():
        if line.strip():
            module.warn(line.strip())
    try:
        return json.loads(out)
    except ValueError:
        module.fail_json(msg="ipbanset printed no JSON", cmd=argv, stdout=out, stderr=err)


def as_text(targets):
    return "".join(t + "\n" for t in targets)


def left_out(summary, would):
    """What the lists leave out: ipbanset names the first 1000 of each kind."""
    words = (("added_more", "banned"), ("removed_more", "withdrawn"), ("retimed_more", "renewed"))
    parts = ["%d more %s%s" % (summary[k], would, w) for k, w in words if summary.get(k)]
    if not parts:
        return ""
    return "(not listed: %s)\n" % ", ".join(parts)


def diff_of(summary, source, check_mode):
    would = "to be " if check_mode else ""
    renewed = summary["retimed_targets"]
    prepared = ""
    if renewed:
        prepared = "%s (a new expiry):\n%s" % (
            "to be renewed" if check_mode else "renewed",
            "".join("  %s\n" % t for t in renewed))
    return dict(
        before=as_text(summary["removed_targets"]),
        after=as_text(summary["added_targets"]),
        before_header="ipbanset source %s, targets %swithdrawn" % (source, would),
        after_header="ipbanset source %s, targets %sbanned" % (source, would),
        prepared=prepared + left_out(summary, would),
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type="path", required=True),
            config=dict(type="path", required=True),
            db=dict(type="path", required=True),
            netns=dict(type="str", default=""),
            source=dict(type="str", required=True),
            targets=dict(type="list", elements="str", required=True),
            timeout=dict(type="str", required=True),
            reason=dict(type="str", default=""),
            max_removals=dict(type="str", default=""),
            jitter=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    p = module.params

    argv = base_argv(p) + ["--json"]
    if module.check_mode:
        argv.append("--dry-run")
    argv += ["sync", "--source", p["source"], "--timeout", p["timeout"]]
    if p["reason"]:
        argv += ["--reason", p["reason"]]
    if p["max_removals"]:
        argv += ["--max-removals", p["max_removals"]]
    if p["jitter"]:
        argv += ["--jitter", p["jitter"]]
    argv += ["-f", "-"]
    # A blank line, not empty input: an empty list is a valid request to withdraw all.
    data = "".join(t + "\n" for t in p["targets"]) or "\n"
    summary = run(module, argv, data=data)
    if "added_targets" not in summary:
        module.warn("this ipbanset does not name the targets that sync changes: no diff")
    for kind in ("added", "removed", "retimed"):
        summary.setdefault(kind + "_targets", [])

    result = dict(
        changed=bool(summary["changed"]),
        ipbanset=summary,
        added=summary["added_targets"],
        removed=summary["removed_targets"],
        renewed=summary["retimed_targets"],
        cmd=argv,
    )
    if module._diff:
        result["diff"] = diff_of(summary, p["source"], module.check_mode)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
