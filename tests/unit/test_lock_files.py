"""A fresh install is the install that was tested: every dependency is locked with hashes, and CI runs
exactly the README's test command."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$", re.M)


def locked(name: str) -> dict[str, str]:
    """Package -> pinned version, each pin followed by at least one sha256 hash."""
    text = (ROOT / "requirements" / f"{name}.txt").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    pins = {}
    for entry in entries:
        match = PIN.match(entry)
        if match:
            assert "--hash=sha256:" in entry, f"{match[1]} is pinned without a hash in {name}.txt"
            pins[canonicalize_name(match[1])] = match[2]
    return pins


@pytest.mark.parametrize(
    ("lock", "declared"),
    [("main", PROJECT["dependencies"]), ("test", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"])],
)
def test_every_declared_dependency_is_pinned_with_hashes_within_its_range(lock: str, declared: list[str]) -> None:
    pins = locked(lock)
    for line in [*declared, "setuptools>=68"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements/{lock}.txt: regenerate the lock (README)"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement.specifier}"


def test_the_service_lock_and_the_test_lock_agree_on_every_shared_package() -> None:
    main, test = locked("main"), locked("test")
    assert {name: main[name] for name in main} == {name: test[name] for name in main}


def test_ci_runs_exactly_the_readmes_test_command_and_both_commands_install_from_the_locks() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first, second = re.search(r"```sh\n(.+)\n(.+)\n```", readme).groups()  # type: ignore[union-attr]
    assert "requirements/main.txt" in first and first.endswith("safecheck demo")
    assert "requirements/test.txt" in second and second.endswith("pytest -q -n 2")  # both cores: pytest-xdist
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == second
