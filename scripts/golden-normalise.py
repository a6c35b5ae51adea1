"""Normalise one interloper --json document for scripts/golden-json.

`whole`: the document less the run's own header (time, tool, command), keys sorted.
`shape`: every key path with its JSON type, and the values that name things (schema, codes,
statuses, severities), so timings and counts may vary while the document's form may not.
"""
import json
import sys

RUN_HEADER = {"time", "tool", "command", "generated_at"}
NAMING_KEYS = {"schema", "code", "status", "severity", "confidence", "verdict", "root_cause"}


def strip_header(doc):
    if isinstance(doc, dict):
        return {k: strip_header(v) for k, v in doc.items() if k not in RUN_HEADER}
    if isinstance(doc, list):
        return [strip_header(v) for v in doc]
    return doc


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def shape(doc, path, out):
    # A nullable field is null in one run and a number in the next: its presence is always
    # kept, its type only when it has a value.
    out.add(path)
    if doc is not None:
        out.add(f"{path}: {kind(doc)}")
    if isinstance(doc, dict):
        for k, v in doc.items():
            sub = f"{path}.{k}"
            if k in NAMING_KEYS and isinstance(v, str):
                out.add(f"{sub} = {v}")
            shape(v, sub, out)
    elif isinstance(doc, list):
        for v in doc:
            shape(v, f"{path}[]", out)


def main():
    mode = sys.argv[1]
    text = sys.stdin.read()
    doc = json.loads(text)
    if mode == "whole":
        json.dump(strip_header(doc), sys.stdout, indent=1, sort_keys=True)
    else:
        paths = set()
        shape(strip_header(doc), "$", paths)
        # Codes and statuses of a sampled run: which appear is the lab's verdict; the shape
        # file keeps them so a rename that changes a value shows up.
        sys.stdout.write("\n".join(sorted(paths)))
    sys.stdout.write("\n")


main()
