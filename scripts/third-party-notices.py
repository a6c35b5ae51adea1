#!/usr/bin/env python3
"""Third-party notices of the interloper binary, generated from the dependency graph.

Usage: scripts/third-party-notices.py TARGET > THIRD-PARTY-NOTICES.txt

Walks `cargo metadata`'s resolved graph from the `interloper` package along normal
dependencies only (build scripts, proc macros and dev-dependencies ship no code in the binary),
for TARGET's platform, and writes each crate's name, version, licence expression and
repository, then the text of every licence file the crate ships (LICENSE*, COPYING*, NOTICE*),
as the MIT, BSD and Apache licences ask of a binary distribution. Reads the crates as cargo
downloaded them; the network is not used (`--offline`, `--locked`).
"""
import json
import pathlib
import subprocess
import sys

LICENCE_PREFIXES = ("license", "licence", "copying", "notice", "copyright", "unlicense")


def main() -> int:
    target = sys.argv[1] if len(sys.argv) > 1 else "x86_64-unknown-linux-musl"
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--offline",
         "--filter-platform", target],
        check=True, capture_output=True, text=True).stdout)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(p["id"] for p in meta["packages"] if p["name"] == "interloper")
    shipped, queue = set(), [root]
    while queue:
        node = nodes[queue.pop()]
        for dep in node["deps"]:
            normal = any(k["kind"] is None for k in dep["dep_kinds"])
            if normal and dep["pkg"] not in shipped:
                shipped.add(dep["pkg"])
                queue.append(dep["pkg"])
    third_party = sorted(
        (packages[i] for i in shipped if packages[i]["source"] is not None),
        key=lambda p: (p["name"], p["version"]))
    out = sys.stdout
    out.write("Third-party software in interloper\n")
    out.write("===================================\n\n")
    out.write(f"interloper ({target}) contains code from the {len(third_party)} crates below,\n"
              "each under the licence shown; their licence texts follow the list.\n\n")
    for p in third_party:
        out.write(f"{p['name']} {p['version']}: {p['license'] or p.get('license_file') or 'see below'}"
                  f"{'  ' + p['repository'] if p.get('repository') else ''}\n")
    for p in third_party:
        crate_dir = pathlib.Path(p["manifest_path"]).parent
        files = sorted(f for f in crate_dir.iterdir()
                       if f.is_file() and f.name.lower().startswith(LICENCE_PREFIXES))
        out.write(f"\n\n{'=' * 78}\n{p['name']} {p['version']} ({p['license']})\n{'=' * 78}\n")
        if not files:
            out.write("(the crate ships no licence file; its licence is the SPDX expression above)\n")
        for f in files:
            out.write(f"\n--- {f.name} ---\n\n")
            out.write(f.read_text(encoding="utf-8", errors="replace").rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
