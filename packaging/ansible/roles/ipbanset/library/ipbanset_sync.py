#!/usr/bin/python3
# Role-local module: make one ipbanset source's bans exactly a list of targets.
#
# It runs `ipbanset sync` and takes `changed` from ipbanset's own --json output, so
# a run that only finds expired bans to renew still reports a change, and a run that
# changes nothing reports none. In check mode it runs `sync --dry-run`. With --diff
# it shows the source's targets before and after: read back from the journal after a
# real run; in check mode the "after" side is the wanted list in ipbanset's
# normal form, cross-checked against the dry run's counts.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re

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
  ipv6_prefix: {type: int, default: 128, description: the config's ipv6_prefix, for the check-mode diff}
"""


def base_argv(p):
    argv = [p["binary"], "--config", p["config"], "--db", p["db"]]
    if p["netns"]:
        argv += ["--netns", p["netns"]]
    return argv


def target_key(text):
    try:
        net = ipaddress.ip_network(text, strict=False)
        return (net.version, int(net.network_address), net.prefixlen, text)
    except ValueError:
        return (9, 0, 0, text)


def normal_form(word, ipv6_prefix):
    """ipbanset's spelling of a target, as `list` prints it."""
    net = ipaddress.ip_network(word, strict=False)
    if net.version == 6 and net.prefixlen >= 96 and net.network_address.ipv4_mapped:
        net = ipaddress.ip_network("%s/%d" % (net.network_address.ipv4_mapped, net.prefixlen - 96))
    if net.version == 6 and net.prefixlen == 128 and ipv6_prefix < 128:
        net = net.supernet(new_prefix=ipv6_prefix)
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return str(net)


def wanted_targets(entries, ipv6_prefix):
    """The targets of the list, read like ipbanset reads -f: first word, no comments."""
    out = set()
    for entry in entries:
        word = re.split(r"[#;]", entry, maxsplit=1)[0].split()
        if word:
            out.add(normal_form(word[0], ipv6_prefix))
    return out


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


def live_targets(module, p):
    bans = run(module, base_argv(p) + ["--json", "list", "--source", p["source"]])
    return {b["target"] for b in bans}


def as_text(targets):
    lines = sorted(targets, key=target_key)
    return "".join(t + "\n" for t in lines)


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
            ipv6_prefix=dict(type="int", default=128),
        ),
        supports_check_mode=True,
    )
    p = module.params

    before = live_targets(module, p)

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

    if module.check_mode:
        after = wanted_targets(p["targets"], p["ipv6_prefix"])
    else:
        after = live_targets(module, p)
    added = sorted(after - before, key=target_key)
    removed = sorted(before - after, key=target_key)

    if module.check_mode and (len(added), len(removed)) != (summary.get("added"), summary.get("removed")):
        module.warn("the diff is an estimate: ipbanset's dry run counts %s added, %s removed"
                    % (summary.get("added"), summary.get("removed")))

    result = dict(
        changed=bool(summary["changed"]),
        ipbanset=summary,
        added=added,
        removed=removed,
        cmd=argv,
    )
    if module._diff:
        result["diff"] = dict(
            before=as_text(before),
            after=as_text(after),
            before_header="ipbanset source %s (journal)" % p["source"],
            after_header="ipbanset source %s (%s)"
            % (p["source"], "wanted" if module.check_mode else "journal"),
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
