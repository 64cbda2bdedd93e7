"""SARIF 2.1.0 logs, the format code-scanning services read.

``flask prodguard check --format sarif`` and ``flask prodguard scan --format
sarif`` both describe their findings with :class:`Rule` and :class:`Result`
and let :func:`sarif_log` write the log, so the two reports have one shape: a
tool with its rules, and results that point at a rule, a level, a message and
a place in a file. Optional parts (a rule's name, help URI and properties, a
column, a result's properties) are left out when not given rather than
written empty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Literal

#: The ``$schema`` every log names.
SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

#: A result's or a rule's level, as SARIF spells them.
Level = Literal["note", "warning", "error"]


@dataclasses.dataclass(frozen=True)
class Rule:
    """One rule a tool checks (a ``reportingDescriptor``).

    :param id: The stable identifier results refer to (``PG101``, ``PGS101``).
    :param description: One line saying what the rule finds (``shortDescription``).
    :param help: What to do about a result (``help``).
    :param level: The level of its results unless a result says otherwise.
    :param name: A PascalCase name that code-scanning UIs show, if any.
    :param help_uri: Where the rule is documented, if anywhere.
    :param properties: Extra properties (``properties``), if any.

    .. versionadded:: 0.1
    """

    id: str
    description: str
    help: str
    level: Level
    name: str | None = None
    help_uri: str | None = None
    properties: Mapping[str, str] | None = None


@dataclasses.dataclass(frozen=True)
class FlowStep:
    """One place of a result's code flow (a ``threadFlowLocation``).

    :param uri: The file, with ``/`` separators.
    :param line: The 1-based line.
    :param message: What happens there.

    .. versionadded:: 0.2
    """

    uri: str
    line: int
    message: str


@dataclasses.dataclass(frozen=True)
class Notification:
    """Something that went wrong in the run, not a result (a file not analysed).

    :param message: What happened.
    :param uri: The file it concerns, if any.
    :param level: How serious it is.

    .. versionadded:: 0.2
    """

    message: str
    uri: str | None = None
    level: Level = "error"


@dataclasses.dataclass(frozen=True)
class Result:
    """One finding of a rule at a place in a file.

    :param rule_id: The :attr:`Rule.id` of the rule it breaks; it must be among
        the rules given to :func:`sarif_log`.
    :param level: How serious it is.
    :param message: What was found and how to fix it, in plain words.
    :param uri: The file, relative to the project and with ``/`` separators.
    :param line: The 1-based line (1 when only the file is known).
    :param column: The 1-based column, if known.
    :param properties: Extra properties (``properties``), if any.
    :param flow: The places that led to it, in order (``codeFlows``), if any.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2
       ``flow``.
    """

    rule_id: str
    level: Level
    message: str
    uri: str
    line: int = 1
    column: int | None = None
    properties: Mapping[str, str] | None = None
    flow: Sequence[FlowStep] = ()


def _rule(rule: Rule) -> dict[str, Any]:
    # Key order is the order the reports have always had: keeps diffs of
    # committed SARIF files quiet.
    data: dict[str, Any] = {"id": rule.id}
    if rule.name is not None:
        data["name"] = rule.name
    data["shortDescription"] = {"text": rule.description}
    data["help"] = {"text": rule.help}
    if rule.help_uri is not None:
        data["helpUri"] = rule.help_uri
    data["defaultConfiguration"] = {"level": rule.level}
    if rule.properties is not None:
        data["properties"] = dict(rule.properties)
    return data


def _result(result: Result, rule_index: int) -> dict[str, Any]:
    region: dict[str, int] = {"startLine": result.line}
    if result.column is not None:
        region["startColumn"] = result.column
    data: dict[str, Any] = {
        "ruleId": result.rule_id,
        "ruleIndex": rule_index,
        "level": result.level,
        "message": {"text": result.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": result.uri},
                    "region": region,
                }
            }
        ],
    }
    if result.flow:
        data["codeFlows"] = [
            {
                "threadFlows": [
                    {
                        "locations": [
                            {
                                "location": {
                                    "physicalLocation": {
                                        "artifactLocation": {"uri": step.uri},
                                        "region": {"startLine": step.line},
                                    },
                                    "message": {"text": step.message},
                                }
                            }
                            for step in result.flow
                        ]
                    }
                ]
            }
        ]
    if result.properties is not None:
        data["properties"] = dict(result.properties)
    return data


def _notification(notification: Notification) -> dict[str, Any]:
    data: dict[str, Any] = {
        "level": notification.level,
        "message": {"text": notification.message},
    }
    if notification.uri is not None:
        data["locations"] = [
            {"physicalLocation": {"artifactLocation": {"uri": notification.uri}}}
        ]
    return data


def sarif_log(
    tool: str,
    version: str,
    rules: Sequence[Rule],
    results: Iterable[Result],
    information_uri: str | None = None,
    notifications: Sequence[Notification] | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one run of ``tool``, ready for :func:`json.dumps`.

    Every rule is listed, found or not, so that a code-scanning service can
    close an alert whose rule no longer fires; each result points at its rule
    by id and by index.

    :param tool: The tool's name (``driver.name``).
    :param version: The tool's version.
    :param rules: Every rule the tool checks, in a stable order.
    :param results: What this run found.
    :param information_uri: The tool's documentation, if any.
    :param notifications: What went wrong in the run (``invocations``): given,
        the run has an invocation whose ``executionSuccessful`` is false when
        one of them is an error.
    :raises KeyError: A result names a rule that is not in ``rules``.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2
       ``notifications``.
    """
    index = {rule.id: position for position, rule in enumerate(rules)}
    driver: dict[str, Any] = {"name": tool, "version": version}
    if information_uri is not None:
        driver["informationUri"] = information_uri
    driver["rules"] = [_rule(rule) for rule in rules]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "results": [_result(result, index[result.rule_id]) for result in results],
    }
    if notifications is not None:
        run["invocations"] = [
            {
                "executionSuccessful": not any(n.level == "error" for n in notifications),
                "toolExecutionNotifications": [_notification(n) for n in notifications],
            }
        ]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


__all__ = ["SCHEMA_URI", "FlowStep", "Level", "Notification", "Result", "Rule", "sarif_log"]
