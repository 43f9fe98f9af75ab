"""Print pip constraints pinning each direct dependency of benchframe (and of the extras named on the command
line) to the lowest version pyproject.toml allows: ``name==X`` for every ``name>=X``.

    python .ci/lowest_constraints.py test > constraints.txt && pip install -c constraints.txt '.[test]'

Only the direct dependencies are pinned (pip resolves the rest), which is what a user who already has old
versions of them installed gets. A dependency without a lower bound is an error: the bound is what is tested.
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[(?P<extras>[^\]]*)\])?\s*(?P<spec>[^;]*)")


def requirements(project: dict, extras: list[str]) -> list[str]:
    """The project's dependencies and those of ``extras``, self-references (``benchframe[kit]``) expanded."""
    out = list(project.get("dependencies", []))
    todo, seen = list(extras), set()
    optional = project.get("optional-dependencies", {})
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        if extra not in optional:
            raise SystemExit(f"lowest_constraints: no extra {extra!r} in pyproject.toml")
        seen.add(extra)
        for req in optional[extra]:
            m = REQUIREMENT.match(req)
            if m and m["name"].lower() == project["name"].lower():
                todo += [e.strip() for e in (m["extras"] or "").split(",") if e.strip()]
            else:
                out.append(req)
    return out


def lowest(req: str) -> str:
    m = REQUIREMENT.match(req)
    if m is None:
        raise SystemExit(f"lowest_constraints: cannot read requirement {req!r}")
    bounds = [s.strip()[2:].strip() for s in m["spec"].split(",") if s.strip().startswith(">=")]
    if not bounds:
        raise SystemExit(f"lowest_constraints: {req!r} has no lower bound (>=): add the oldest version that works")
    return f"{m['name']}=={bounds[0]}"


def main(argv: list[str]) -> None:
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    pins = sorted({lowest(r) for r in requirements(project, argv)}, key=str.lower)
    print("\n".join(pins))


if __name__ == "__main__":
    main(sys.argv[1:])
