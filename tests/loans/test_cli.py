"""`flask loan-schedule`: CSV of DOMAIN.md's worked example, the default start, bad input."""

from datetime import date

import pytest

from coop_app import create_app
from coop_app.config import config_for_tests

WORKED = ["--principal", "12000000", "--months", "12", "--rate", "1.5"]
HEADER = "no,due_date,principal,interest,installment,balance"


@pytest.fixture
def run(tmp_path):
    """Invoke the command on an app without a database (it reads and writes none)."""
    config = config_for_tests("sqlite://") | {"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)}
    runner = create_app(config).test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["loan-schedule", *args])

    return invoke


def test_flat_worked_example(run):
    result = run(*WORKED, "--method", "flat", "--start", "2025-01-31")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 13
    assert lines[1] == "1,2025-02-28,1000000,180000,1180000,11000000"
    assert lines[2] == "2,2025-03-31,1000000,180000,1180000,10000000"
    assert lines[12] == "12,2026-01-31,1000000,180000,1180000,0"


def test_declining_worked_example(run):
    result = run(*WORKED, "--method", "declining", "--start", "2025-01-15")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "1,2025-02-15,1000000,180000,1180000,11000000"
    assert lines[2] == "2,2025-03-15,1000000,165000,1165000,10000000"
    assert lines[12] == "12,2026-01-15,1000000,15000,1015000,0"


def test_annuity_rounded_to_a_thousand(run):
    result = run(*WORKED, "--method", "annuity", "--round", "1000", "--start", "2025-01-15")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # A = 1,100,159.91 -> 1,101,000; interest 180,000 then 1.5 % of 11,079,000 = 166,185
    assert lines[1] == "1,2025-02-15,921000,180000,1101000,11079000"
    assert lines[2] == "2,2025-03-15,934815,166185,1101000,10144185"
    assert lines[12].endswith(",0")
    assert sum(int(line.split(",")[2]) for line in lines[1:]) == 12_000_000


def test_the_start_defaults_to_today_in_jakarta(run, monkeypatch):
    monkeypatch.setattr("coop_app.loans.cli.local_today", lambda: date(2024, 1, 31))
    result = run("--principal", "300", "--months", "3", "--rate", "0", "--method", "flat")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{HEADER}\n1,2024-02-29,100,0,100,200\n2,2024-03-31,100,0,100,100\n"
        "3,2024-04-30,100,0,100,0\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "abc"], "is not a number"),
        (["--rate", "100"], "from 0 to below 100"),
        (["--rate", "-1"], "from 0 to below 100"),
        (["--rate", "NaN"], "from 0 to below 100"),
        (["--principal", "0"], "--principal"),
        (["--months", "361"], "--months"),
        (["--round", "0"], "--round"),
        (["--method", "balloon"], "--method"),
        (["--start", "31/01/2025"], "--start"),
    ],
)
def test_bad_input_is_refused_with_a_message(run, args, message):
    terms = dict(zip(WORKED[::2], WORKED[1::2], strict=True)) | {"--method": "flat"}
    terms |= dict(zip(args[::2], args[1::2], strict=True))
    result = run(*[part for pair in terms.items() for part in pair])
    assert result.exit_code != 0
    assert message in result.output
    assert HEADER not in result.output


def test_a_missing_option_is_refused(run):
    result = run("--principal", "1000", "--months", "12", "--method", "flat")
    assert result.exit_code != 0
    assert "--rate" in result.output
