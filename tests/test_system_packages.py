"""A test that needs a system package (Chromium, PostgreSQL) skips where it is missing, with one line
naming the command that installs it, and fails instead under CI=true (tests/conftest.py)."""

from __future__ import annotations

import pytest


def test_a_found_package_neither_skips_nor_fails(system_package, monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert system_package(True, "Chromium", "chromium chromium-driver") is None


def test_a_missing_package_skips_with_one_line_naming_the_install_command(system_package, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        system_package(False, "PostgreSQL", "postgresql", "did not start:\n  FATAL: no\n  shared memory")
    assert str(skipped.value) == (
        "PostgreSQL did not start: FATAL: no shared memory: `apt-get install postgresql` "
        "as root installs it (bash scripts/test.sh does)"
    )


@pytest.mark.parametrize("ci", ["true", "TRUE"])
def test_under_ci_a_missing_package_fails(system_package, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium chromium-driver.*CI=true"):
        system_package(False, "Chromium", "chromium chromium-driver")


def test_ci_false_still_skips(system_package, monkeypatch):
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        system_package(False, "Chromium", "chromium chromium-driver")
