#!/usr/bin/env bash
# Checks that the modules' imports only point down the layers the README documents (the table
# between <!-- layers --> and <!-- /layers --> in its Layout section): every `import` in every
# module's folder, and every target dependency in Package.swift, must be one its row allows, the
# rows must form no cycle, and every target must have a row. Prints one line per violation.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build
swift package dump-package > .build/package.json
python3 - <<'PY'
import json, os, re, sys

text = open("README.md").read()
match = re.search(r"<!-- layers -->(.*?)<!-- /layers -->", text, re.S)
if not match:
    sys.exit("check-layers: README.md has no <!-- layers --> table")
rows = {}
for line in match.group(1).splitlines():
    cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
    if len(cells) < 3 or cells[0] in ("module", "") or set(cells[0]) <= set("-: "):
        continue
    module = re.sub(r"\s*\(\*?planned\*?\)", "", cells[0])
    folder, imports = cells[1].strip("`"), cells[2]
    allowed = {name.strip().strip("`") for name in imports.split(",") if name.strip() not in ("", "—", "-")}
    rows[module] = (folder.rstrip("/"), allowed)

problems = []
project = set(rows)
# The documented graph must be acyclic: every module's allowed imports lie strictly below it.
state = {}
def visit(module, path):
    if state.get(module) == "done":
        return
    if state.get(module) == "visiting":
        problems.append("the layers table has a cycle: " + " -> ".join(path + [module]))
        return
    state[module] = "visiting"
    for dependency in sorted(rows[module][1] - {"*"}):
        if dependency not in rows:
            problems.append(f"{module}: allows '{dependency}', which has no row")
        else:
            visit(dependency, path + [module])
    state[module] = "done"
for module in rows:
    visit(module, [])

def allows(module, dependency):
    allowed = rows[module][1]
    return "*" in allowed or dependency in allowed

package = json.load(open(".build/package.json"))
for target in package["targets"]:
    name = target["name"]
    if name not in rows:
        problems.append(f"Package.swift: target {name} has no row in the README's layers table")
        continue
    for dependency in target.get("dependencies", []):
        dep = (dependency.get("byName") or dependency.get("target") or [None])[0]
        if dep in project and not allows(name, dep):
            problems.append(f"Package.swift: {name} depends on {dep}, which its layer may not import")

imports = 0
import_line = re.compile(r"^\s*(?:@testable\s+|@_exported\s+)?(?:public\s+|package\s+|internal\s+)?import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?(\w+)", re.M)
for module, (folder, _) in rows.items():
    if not os.path.isdir(folder):
        continue  # a planned layer: its rules are written before its first line
    for root, _, files in os.walk(folder):
        for file in files:
            if not file.endswith(".swift"):
                continue
            path = os.path.join(root, file)
            for imported in import_line.findall(open(path).read()):
                if imported not in project or imported == module:
                    continue
                imports += 1
                if not allows(module, imported):
                    problems.append(f"{path}: {module} imports {imported}, which lies above it or beside it")

for problem in problems:
    print("check-layers:", problem)
if problems:
    sys.exit(1)
present = sum(os.path.isdir(folder) for folder, _ in rows.values())
print(f"check-layers: {present} modules, {imports} imports of project modules, all pointing down")
PY
