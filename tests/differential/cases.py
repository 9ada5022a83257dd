"""The differential test's cases: each Python function of a conformance suite's
template, with the requirement it implements, resolved once for both sides.

A requirement's YAML gives the input, the variables it is written with
(`${GEN_STR:10}`), and the callbacks an external system sends
(`CallbackActions`). The variables are drawn here, once, so that `orders
serve` and the emulator run the same input and answer the same callback names
with the same payloads. A case is plain data (`to_json`, `from_json`): the
emulator runs in processes of its own.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from typing import Any

import yaml

HERE = pathlib.Path(__file__).resolve().parent
CONFORMANCE = HERE.parent / "conformance"
REGION = "us-east-1"

# `${Logical.Arn}` in a template's `!Sub`: the function a chained invoke targets.
_ARN_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")


class TemplateLoader(yaml.SafeLoader):
    """Reads a SAM template, keeping an intrinsic function as `{"Sub": value}`."""


TemplateLoader.add_multi_constructor(
    "!", lambda loader, suffix, node: {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.ScalarNode) else {suffix: None})


@dataclasses.dataclass(frozen=True)
class Function:
    """One Python function of a suite's template."""

    logical_id: str
    handler: str                   # `module.attribute`, as the template's `Handler`
    environment: dict[str, Any]    # as written: a value may be `{"Sub": "..."}`
    timeout: int                   # the invocation's, in seconds
    execution_timeout: int         # the durable execution's, in seconds
    requirements: tuple[str, ...]

    def targets(self) -> list[str]:
        """The logical ids of the functions its environment names by ARN."""
        return sorted({name for value in self.environment.values() if isinstance(value, dict)
                       for name in _ARN_REFERENCE.findall(str(value.get("Sub", "")))})

    def environment_with(self, arn_of) -> dict[str, str]:
        """Its environment, each `!Sub "${X.Arn}..."` resolved by `arn_of(X)`."""
        resolved = {}
        for key, value in self.environment.items():
            if isinstance(value, dict):
                value = _ARN_REFERENCE.sub(lambda found: arn_of(found.group(1)), str(value.get("Sub", "")))
            resolved[key] = str(value)
        return resolved


def python_functions(suite: str) -> dict[str, Function]:
    """The functions of `suite`'s template that run on a `python3.*` runtime, by logical id."""
    template = yaml.load((CONFORMANCE / suite / "template.yaml").read_text(), Loader=TemplateLoader)
    defaults = (template.get("Globals") or {}).get("Function") or {}
    functions = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = {**defaults, **(resource.get("Properties") or {})}
        if not str(properties.get("Runtime", "")).startswith("python3"):
            continue
        durable = {**(defaults.get("DurableConfig") or {}), **(properties.get("DurableConfig") or {})}
        functions[logical_id] = Function(
            logical_id=logical_id,
            handler=properties["Handler"],
            environment=dict((properties.get("Environment") or {}).get("Variables") or {}),
            timeout=int(properties.get("Timeout", 3)),
            execution_timeout=int(durable.get("ExecutionTimeout", 300)),
            requirements=tuple((resource.get("TestingMetadata") or {}).get("TestDescription", [])),
        )
    return functions


@dataclasses.dataclass(frozen=True)
class Case:
    """One requirement run through one function, its variables drawn."""

    suite: str
    requirement: str
    function: str                  # the logical id
    handler: str
    input: Any                     # the event, as JSON would carry it
    asynchronous: bool             # `AsyncInvoke`: invoked with InvocationType=Event
    actions: list[dict[str, Any]]  # `CallbackActions`, names and payloads resolved
    until: str                     # "end", or "suspended" when the YAML has no ExpectedResult

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        return cls(**data)

    @property
    def label(self) -> str:
        return f"{self.requirement} {self.function}"


def requirement_files(suite: str) -> dict[str, pathlib.Path]:
    """The package's requirement YAML files of `suite`, by requirement id."""
    from aws_durable_execution_conformance_tests.config import TESTS_DIR

    return {path.stem: path for path in sorted((TESTS_DIR / suite).rglob("*.yaml"))}


def cases(suite: str) -> list[Case]:
    """Every (requirement, Python function) pair of `suite`, in the template's order."""
    from aws_durable_execution_conformance_tests.variables import PlaceholderContext

    files = requirement_files(suite)
    found = []
    for function in python_functions(suite).values():
        for requirement_id in function.requirements:
            spec = yaml.safe_load(files[requirement_id].read_text())
            variables = PlaceholderContext()
            variables.resolve_variables(spec.get("Variables"))
            actions = [{
                "CallbackName": variables.substitute(action["CallbackName"]),
                "Operation": action["Operation"],
                "Payload": variables.substitute(action.get("Payload")),
                "Delay": action.get("Delay", 0),
            } for action in spec.get("CallbackActions") or []]
            found.append(Case(
                suite=suite,
                requirement=requirement_id,
                function=function.logical_id,
                handler=function.handler,
                input=variables.substitute(spec.get("Input")),
                asynchronous=bool(spec.get("AsyncInvoke", False)),
                actions=actions,
                # Without an ExpectedResult the package stops as soon as the
                # history it expects has appeared (2-4 and 2-5 wait a minute
                # and an hour): both sides are compared up to the end of the
                # first invocation.
                until="end" if "ExpectedResult" in spec else "suspended",
            ))
    return found
