"""What says how the Lambda service itself shapes a history event.

Two sources, both attached to each difference in the report:

* the conformance package's expected histories, recorded from the service:
  a key an expected event lists is a key the service's event carries (the
  package's matcher fails on a listed key that is missing). They do not
  list every key, so a key they leave out proves nothing;
* the Lambda API model botocore ships (`lambda/service-2`): the members of
  each Details shape, and which the service always returns (`required`).

A difference these show the emulator wrong about is listed as `Known`.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import yaml

from cases import requirement_files
from compare import Difference


@dataclasses.dataclass(frozen=True)
class Known:
    """A difference where the emulator, not the engine, departs from the Lambda service.

    It matches a difference by its signature (see `compare.Difference`), and
    only in `requirements` when they are given. `evidence` names the expected
    histories (test_requirements/<suite>/<id>.yaml, recorded from the service)
    or the API model's shapes that show the service doing what the engine does.
    """

    kind: str
    event_type: str
    path: str
    key: str
    side: str
    reason: str
    evidence: str
    requirements: frozenset[str] = frozenset()

    def explains(self, difference: Difference, requirement_id: str) -> bool:
        return ((self.kind, self.event_type, self.path, self.key, self.side) == difference.signature
                and (not self.requirements or requirement_id in self.requirements))


def _paths(value: Any, prefix: str = ""):
    if isinstance(value, dict):
        for key, member in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from _paths(member, path)


@functools.cache
def expected_paths() -> dict[tuple[str, str], list[str]]:
    """(event type, dotted key path) -> the requirements whose expected history lists it."""
    from aws_durable_execution_conformance_tests.config import TESTS_DIR

    index: dict[tuple[str, str], list[str]] = {}
    for suite in sorted(path.name for path in TESTS_DIR.iterdir() if path.is_dir()):
        for requirement_id, path in requirement_files(suite).items():
            for event in yaml.safe_load(path.read_text()).get("ExpectedExecutionHistory") or []:
                for path in _paths(event):
                    listed = index.setdefault((event.get("EventType", ""), path), [])
                    if requirement_id not in listed:
                        listed.append(requirement_id)
    for listed in index.values():
        listed.sort(key=lambda requirement_id: tuple(int(part) for part in requirement_id.split("-")))
    return index


@functools.cache
def _model() -> dict[str, Any]:
    import botocore.loaders

    return botocore.loaders.Loader().load_service_model("lambda", "service-2")["shapes"]


def model_says(path: str, key: str) -> str:
    """What the API model says of `key` at `path` (`Event` members, then a
    Details shape and its nested members, as the dotted path names them)."""
    shapes = _model()
    shape = shapes["Event"]
    for part in [part for part in path.split(".") if part]:
        member = shape.get("members", {}).get(part)
        if member is None:
            return f"the model has no {part} in {path}"
        shape = shapes[member["shape"]]
    if key not in shape.get("members", {}):
        return "not in the API model"
    return "required in the API model" if key in shape.get("required", []) else "optional in the API model"


def of(kind: str, event_type: str, path: str, key: str) -> dict[str, Any]:
    """The evidence for one difference of a key (`keys` or `details`)."""
    if kind not in ("keys", "details"):
        return {}
    dotted = f"{path}.{key}" if path else key
    listed = expected_paths().get((event_type, dotted), [])
    return {"expected_histories": len(listed), "for_example": listed[:8], "api_model": model_says(path, key)}
