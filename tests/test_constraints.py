"""constraints.txt (`make lock`) pins every runtime dependency the image and `make install` take.

A dependency added to pyproject.toml without `make lock` would be installed unpinned in the image
(a different version on every rebuild); a pin outside pyproject's range would make pip give up.
Both fail here, before anybody builds an image.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, Version]:
    pinned: dict[str, Version] = {}
    for number, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"constraints.txt:{number}: not name==version: {line!r}"
        pinned[canonicalize_name(name)] = Version(version)
    return pinned


def test_every_runtime_dependency_is_pinned_inside_its_range_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = pins()
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} has no pin in constraints.txt: run `make lock`"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt: {requirement.name}=={pinned[name]}, pyproject.toml: {requirement.specifier}"
        )


def test_what_the_requested_extras_bring_is_pinned_too_and_no_test_tool() -> None:
    """python-telegram-bot[webhooks] brings tornado, matrix-nio[e2e] its crypto: they are in the image."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = pins()
    brought = set()
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        for extra in requirement.extras:
            for line in requires(requirement.name) or []:
                needed = Requirement(line)
                if needed.marker is not None and needed.marker.evaluate({"extra": extra}):
                    brought.add(canonicalize_name(needed.name))
    assert {"tornado", "vodozemac"} <= brought  # the two extras were read
    assert brought <= pinned.keys(), f"not pinned: {sorted(brought - pinned.keys())}: run `make lock`"
    assert "pytest" not in pinned  # the image has no test tools
