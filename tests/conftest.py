"""Shared by the whole suite. Under CI=true a skipped test fails the run: in CI a
missing prerequisite is a failure, never a silent skip."""

import os

import pytest

# The stand-in VM's fixtures, registered once for tests/vm and tests/replay alike, so
# that one session provisions one VM.
from vm.standin_vm import standin_vm, vm_factory  # noqa: F401

IN_CI = os.environ.get("CI") == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"
