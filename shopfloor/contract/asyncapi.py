"""The payload schemas of docs/asyncapi.yaml, generated from the models in payloads.py and entity_states.py.

The document's prose (channels, what each message means, the MQTT bindings) is written by hand; its
`components.schemas` section, the last part of the file, is written by this module, so a model and its
documented shape cannot drift apart:

    python -m shopfloor.contract.asyncapi           # rewrite the schemas in docs/asyncapi.yaml
    python -m shopfloor.contract.asyncapi --check   # exit 1 when they are out of date

tests/test_bus_contract.py checks the same, and checks every message the server publishes against the
document.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from shopfloor.contract import entity_states, payloads

DOCUMENT = Path("docs/asyncapi.yaml")
SCHEMAS_REF = "#/components/schemas/{model}"
# the line that starts the generated part; everything after it belongs to this module
MARKER = "  # Generated from the models in shopfloor/contract by `python -m shopfloor.contract.asyncapi`: do not edit."

# every payload on the bus under the name its message has in the document
PAYLOADS: dict[str, TypeAdapter[Any]] = {
    "RepairOrderState": TypeAdapter(entity_states.RepairOrderState),
    "AppointmentState": TypeAdapter(entity_states.AppointmentState),
    "AdvisorState": TypeAdapter(entity_states.AdvisorState),
    "TechnicianState": TypeAdapter(entity_states.TechnicianState),
    "CapacityState": TypeAdapter(entity_states.CapacityState),
    "LoungeState": TypeAdapter(entity_states.LoungeState),
    "RepairOrderEvent": entity_states.repair_order_events,
    "ComplaintState": TypeAdapter(entity_states.ComplaintState),
    "ComplaintEvent": TypeAdapter(entity_states.ComplaintEvent),
    "PrintJob": TypeAdapter(payloads.PrintJob),
    "PrintAck": TypeAdapter(payloads.PrintAck),
    "PrinterStatus": TypeAdapter(payloads.PrinterStatus),
    "Availability": TypeAdapter(payloads.Availability),
}


def component_schemas() -> dict[str, Any]:
    """components.schemas: each payload by its message name, and the shapes they share (AdvisorRef, RoStatus …),
    sorted by name."""
    by_key, definitions = TypeAdapter.json_schemas(
        [(name, "validation", adapter) for name, adapter in PAYLOADS.items()], ref_template=SCHEMAS_REF)
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    for (name, _mode), schema in by_key.items():
        if "$ref" not in schema:  # a union has no name of its own: it gets its message's
            schemas[name] = schema
    return {name: _tidy(schemas[name]) for name in sorted(schemas)}


# keywords in the order a reader wants them: what it is, then its constraints, then what is inside
_ORDER = ("description", "type", "format", "const", "enum", "minimum", "maximum", "contentEncoding", "$ref", "items",
          "anyOf", "oneOf", "discriminator", "examples", "additionalProperties", "required", "properties")


def _tidy(node: Any) -> Any:
    """Readable and AsyncAPI 2.6: no generated titles; a docstring's lines joined; `type: [string, "null"]` rather
    than an anyOf of a type and null; a discriminator names its property (AsyncAPI's form, not OpenAPI's)."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _tidy(value) for key, value in node.items() if key not in ("title", "properties")}
    if "properties" in node:  # a map of names to schemas, in the model's field order
        out["properties"] = {name: _tidy(schema) for name, schema in node["properties"].items()}
    if isinstance(out.get("description"), str):
        out["description"] = " ".join(out["description"].split())
    choices = out.get("anyOf")
    if isinstance(choices, list) and len(choices) == 2 and {"type": "null"} in choices:
        other = next(choice for choice in choices if choice != {"type": "null"})
        if isinstance(other.get("type"), str):
            del out["anyOf"]
            out = {**other, **out, "type": [other["type"], "null"]}
    if isinstance(out.get("discriminator"), dict):
        out["discriminator"] = out["discriminator"]["propertyName"]
    return {key: out[key] for key in sorted(out, key=lambda k: _ORDER.index(k) if k in _ORDER else len(_ORDER))}


class _Dumper(yaml.SafeDumper):
    """Block style, but a mapping or list of plain values on one line: `{type: string, format: date-time}`."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = all(not isinstance(value, dict | list) or _flat_list(value) for value in data.values()) \
        and len(data) <= 4 and "description" not in data
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=_flat_list(data))


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # a long description folds onto lines of its own rather than running on in quotes
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=">" if len(data) > 90 else None)


def _flat_list(value: Any) -> bool:
    return isinstance(value, list) and all(not isinstance(item, dict | list) for item in value)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


def schemas_section() -> str:
    """The generated end of the document: the marker line, then `schemas:` indented under `components:`."""
    body = yaml.dump({"schemas": component_schemas()}, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=108, indent=2)
    return MARKER + "\n" + "".join(f"  {line}\n" if line else "\n" for line in body.splitlines())


def render(document: str) -> str:
    """The document with its generated part replaced by what the models say now."""
    head, found, _old = document.partition(MARKER + "\n")
    if not found:
        raise ValueError(f"no generated schemas section: the document must end with the line {MARKER!r}")
    return head + schemas_section()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shopfloor.contract.asyncapi", description=__doc__.split("\n")[0])
    parser.add_argument("document", nargs="?", type=Path, default=DOCUMENT)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the schemas are stale")
    args = parser.parse_args(argv)
    current = args.document.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if current != wanted:
            print(f"{args.document}: payload schemas differ from the models; run python -m shopfloor.contract.asyncapi",
                  file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        args.document.write_text(wanted, encoding="utf-8")
        print(f"{args.document}: payload schemas rewritten from the models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
