"""JUnit XML for CI dashboards: one test suite per package, one test case per rule checked (the
configuration's selection; every rule without one).

A rule fails its test case when it has a finding at least as severe as the package's
``fail-on``; milder findings are listed in the case's ``system-out``. A package that could not be
checked is one errored test case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from modeltemplates.findings import Finding
from modeltemplates.report.results import PackageResult, RenderOptions, RunResult
from modeltemplates.report.text import shown


def _line(f: Finding) -> str:
    return shown(f"{f.location()}: {f.severity.value}: {f.message}")


def _suite(package: PackageResult, rule_ids: list[str]) -> ET.Element:
    name = package.base or shown(package.path)
    suite = ET.Element("testsuite", name=name)
    if package.error is not None:
        case = ET.SubElement(suite, "testcase", classname=name, name="package")
        ET.SubElement(case, "error", message=shown(package.error), type="usage")
        suite.set("tests", "1")
        suite.set("failures", "0")
        suite.set("errors", "1")
        return suite
    by_rule: dict[str, list[Finding]] = {}
    for f in package.findings:
        by_rule.setdefault(f.rule, []).append(f)
    from modeltemplates.policy import selects

    checked = [r for r in rule_ids if not package.selection or selects(package.selection, r)]
    ids = checked + sorted(set(by_rule) - set(checked))
    failures = 0
    for rule_id in ids:
        case = ET.SubElement(suite, "testcase", classname=name, name=rule_id)
        found = by_rule.get(rule_id, [])
        failing = [f for f in found if f.severity.rank <= package.fail_on.rank]
        if failing:
            failures += 1
            failure = ET.SubElement(case, "failure", message=shown(failing[0].message)[:500],
                                    type=failing[0].severity.value)
            failure.text = "\n".join(_line(f) for f in failing)
        milder = [f for f in found if f not in failing]
        if milder:
            ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in milder)
    suite.set("tests", str(len(ids)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    return suite


def render_junit(run: RunResult, options: RenderOptions | None = None) -> str:
    from modeltemplates.rules import all_rules

    rule_ids = list(all_rules())
    root = ET.Element("testsuites", name="modeltemplates")
    suites = [_suite(p, rule_ids) for p in run.packages]
    root.extend(suites)
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in suites)))
    root.set("errors", str(sum(int(s.get("errors", "0")) for s in suites)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
