"""The completion-event rules (issue 19): the stack's rules and the DR-region forwarder's match the
same events, the forwarder lints clean and grants nothing beyond putting events on the home bus."""

from __future__ import annotations

from typing import Any

from lifeboat.domain.completion import EBS_EVENTS, RDS_TERMINAL_EVENTS

from .test_template import PROJECT_ROOT, _iam_statements, _load_template

FORWARDER = PROJECT_ROOT / "templates" / "dr-region-events.yaml"


def _stack_patterns(template: dict[str, Any]) -> list[Any]:
    events = template["Resources"]["CompletionEventFunction"]["Properties"]["Events"]
    return [events[name]["Properties"]["Pattern"] for name in sorted(events)]


def test_the_forwarder_forwards_exactly_what_the_stack_listens_for() -> None:
    # GIVEN the stack's completion rules and the forwarder a DR region runs
    stack, forwarder = _load_template(), _load_template(FORWARDER)
    rules = {k: v for k, v in forwarder["Resources"].items() if v["Type"] == "AWS::Events::Rule"}
    # THEN both match the same events, named by the same rules
    assert [rules[name]["Properties"]["EventPattern"] for name in sorted(rules)] == _stack_patterns(stack)
    # AND those are the events the handler acts on: every terminal RDS event, both EBS events
    ebs, rds = _stack_patterns(stack)  # EbsSnapshotFinished, RdsSnapshotFinished
    assert (ebs["source"], rds["source"]) == (["aws.ec2"], ["aws.rds"])
    assert sorted(rds["detail"]["EventID"]) == sorted(RDS_TERMINAL_EVENTS)
    assert sorted(ebs["detail"]["event"]) == sorted(EBS_EVENTS)
    # AND every forwarding target is the home region's default bus, through the role
    for rule in rules.values():
        [target] = rule["Properties"]["Targets"]
        assert target["Arn"]["Fn::Sub"].endswith(":events:${HomeRegion}:${AWS::AccountId}:event-bus/default")


def test_the_forwarder_role_can_only_put_events_on_the_home_bus() -> None:
    # GIVEN the forwarder's IAM statements THEN the only grant is PutEvents on the home bus
    statements = [s for _, s in _iam_statements(_load_template(FORWARDER))]
    assert [(s["Action"], s["Resource"]["Fn::Sub"]) for s in statements] == [
        ("events:PutEvents", "arn:${AWS::Partition}:events:${HomeRegion}:${AWS::AccountId}:event-bus/default")
    ]


def test_the_forwarder_lints_clean() -> None:
    # GIVEN templates/dr-region-events.yaml WHEN cfn-lint lints it THEN nothing is reported
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(FORWARDER, config=ManualArgs(regions=["us-west-2"]))
    assert matches == [], "\n".join(str(m) for m in matches)


def test_every_step_that_waits_for_its_point_knows_which_regions_are_heard() -> None:
    # GIVEN the functions serving CreateSnapshot and CopyToRegion (each waits for its point's event)
    resources = _load_template()["Resources"]
    # THEN each reads the forwarded regions from the stack's parameter: a forwarded source region's
    # snapshots wait for their events like its copies (was: the copy step's function only)
    for function in ("SnapshotFunction", "ReplicateFunction"):
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["COMPLETION_EVENT_REGIONS"] == {"Ref": "CompletionEventRegions"}, function
