"""Where a sweep writes: only inside --output, whatever the grid holds; a place it cannot write is
one Error line (exit 2), a disk failing mid-sweep exit 1, and the same command then resumes.

The read-only case uses /sys, which refuses even root (the tests may run as root); where /sys
does not refuse, that case is skipped.
"""
import errno
import json
import os

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from training.run_dir import name_problem
from tuner.cli import main
from tuner.grid import run_id, sgen

HOSTILE_VALUES = ["../../escape", "/etc/passwd", "..", ".", "ünïcödé✓", "a b", "$(touch pwned)", "-x",
                  "\\\\share"]


def error_lines(result):
    assert "Traceback" not in result.output
    return [line for line in result.output.splitlines() if line.startswith("Error:")]


def all_files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True),
                          st.text(min_size=1).filter(lambda text: text.strip() and "\0" not in text)),
                min_size=1, max_size=3, unique_by=lambda pair: pair[0]))
def test_every_run_id_is_one_plain_name(pairs):
    params = [sgen(name, [value]) for name, value in pairs]
    assert name_problem(run_id(("python", "experiment.py"), [(p.name, p.values[0]) for p in params])) is None


def test_path_like_grid_values_stay_inside_the_sweep(tmp_path, monkeypatch, fake_prefix):
    # The fake experiment writes into the --output_dir the tuner gives each run.
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    (tmp_path / "grid.json").write_text(json.dumps({"grid": {"note": HOSTILE_VALUES[4:], "mode": ["ok"]}}))
    result = CliRunner().invoke(main, ["run", str(tmp_path / "grid.json"), "--prefix", fake_prefix,
                                       "--grid", "path=" + ",".join(HOSTILE_VALUES[:4]), "--output", "sweep"])
    assert result.exit_code == 0, result.output
    runs = sorted(os.listdir(work / "sweep"))
    assert len([r for r in runs if os.path.isdir(work / "sweep" / r)]) == 4 * 5
    assert all(name_problem(r) is None for r in runs)
    outside = [path for path in all_files(tmp_path) if not path.startswith(os.path.join("a", "b", "sweep") + os.sep)]
    assert outside == ["grid.json"]


def test_an_output_under_a_regular_file(tmp_path, fake_prefix):
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "sweep"
    result = CliRunner().invoke(main, ["run", "--prefix", fake_prefix, "--grid", "mode=ok", "--output", str(out)])
    assert result.exit_code == 2
    assert error_lines(result) == [f"Error: Invalid value for --output: cannot create {out}: Not a directory"]


def test_a_read_only_output(tmp_path, fake_prefix):
    try:
        os.mkdir("/sys/zppmem-write-test")
    except OSError:
        pass
    else:
        os.rmdir("/sys/zppmem-write-test")
        pytest.skip("/sys takes directories here: no place refuses root's writes")
    result = CliRunner().invoke(main, ["run", "--prefix", fake_prefix, "--grid", "mode=ok", "--output", "/sys/sweep"])
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert "/sys/sweep" in line and ("Operation not permitted" in line or "Permission denied" in line)


@pytest.mark.parametrize("args, message", [
    (["--output", ""], "empty path"),
    (["--output", "a\x00b"], "NUL"),
    (["--timeout", "nan"], "not a finite number"),
    (["--timeout", "inf"], "not a finite number"),
    (["--executor", "dask", "--scheduler", "../../x"], "is not a scheduler address"),
    (["--executor", "dask", "--scheduler", "tcp://host:99999"], "port from 1 to 65535"),
])
def test_bad_options_are_one_error_line(tmp_path, monkeypatch, fake_prefix, args, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "--prefix", fake_prefix, "--grid", "mode=ok", *args])
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert message in line
    assert all_files(tmp_path) == []


def fail_on(monkeypatch, ending, code):
    """os.replace(temporary file, X) raises OSError(code) for an X ending in `ending`."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if os.fspath(dst).endswith(ending):
            raise OSError(code, os.strerror(code), os.fspath(dst))
        return real(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, "replace", replace)


def test_a_disk_failing_mid_sweep_is_exit_1_and_the_sweep_resumes(tmp_path, monkeypatch, fake_prefix):
    out = tmp_path / "sweep"
    args = ["run", "--prefix", fake_prefix, "--grid", "mode=ok", "--output", str(out)]
    fail_on(monkeypatch, "result.json", errno.ENOSPC)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    [line] = error_lines(result)
    assert line.endswith("result.json: No space left on device; run the same command again to resume")
    [run] = [d for d in os.listdir(out) if os.path.isdir(out / d) and not d.startswith('.')]
    assert not any(name.startswith("result.json") or name.startswith(".result.json") for name in os.listdir(out / run))
    monkeypatch.undo()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "1 completed now" in result.output


def test_a_summary_that_cannot_be_written(tmp_path, monkeypatch, fake_prefix):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["run", "--prefix", fake_prefix, "--grid", "mode=ok", "--output", str(out)])
    assert result.exit_code == 0
    fail_on(monkeypatch, "summarise.csv", errno.EROFS)
    result = CliRunner().invoke(main, ["summary", str(out)])
    assert result.exit_code == 2
    assert error_lines(result) == [f"Error: Invalid value for SWEEP_DIR: cannot write the summary: "
                                   f"{out / 'summarise.csv'}: Read-only file system"]
