"""Where a run writes: only inside --output_dir, and a place it cannot write is one Error line.

Permission bits do not stop root (the tests may run as root), so the read-only case uses /sys,
which refuses even root; where /sys does not refuse, that case is skipped. A disk failing
mid-run is an os function raising OSError(ENOSPC): the OS call fails, TensorFlow is untouched.
"""
import errno
import json
import os

import pytest
from click.testing import CliRunner

from definitions.errors import ConfigError
from training import checkpoints
from training.cli import main
from training.run import resolve_config, run_experiment
from training.run_dir import RUN_ID_MAX_BYTES

SMALL = ["--dataset_name", "synthetic", "--sequence", "fcReLu", "--set", "synthetic_shape=[6]",
         "--set", "synthetic_size=120", "--set", "synthetic_classes=3", "--batch_size", "40"]


def invoke(*args):
    return CliRunner().invoke(main, [*SMALL, *args])


def error_line(result):
    """The one line of a failed command: `Error: ...`, no traceback, nothing else."""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def all_files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


# -- names that would be paths -----------------------------------------------------------------

@pytest.mark.parametrize("run_id, problem", [
    ("../../somewhere", "path separator"), ("..", "not a name"), (".", "not a name"), ("a/b", "path separator"),
    ("a\\b", "path separator"), ("", "empty"), ("   ", "empty"), ("a\x00b", "control character"),
    ("tab\there", "control character"), ("x" * (RUN_ID_MAX_BYTES + 1), "bytes long"),
    ("é" * (RUN_ID_MAX_BYTES // 2 + 1), "bytes long"),  # 2 bytes each in UTF-8
])
def test_a_run_id_is_a_name_not_a_path(tmp_path, run_id, problem):
    out = tmp_path / "deep" / "out"
    result = invoke("--epochs", "1", "--id", run_id, "--output_dir", str(out))
    assert result.exit_code == 2
    assert problem in error_line(result) and "--id" in error_line(result)
    assert all_files(tmp_path) == []  # nothing written, above --output_dir or in it


def test_the_longest_run_id_and_unicode_are_names(tmp_path):
    for run_id in ("x" * RUN_ID_MAX_BYTES, "ünïcödé-✓"):
        result = invoke("--epochs", "1", "--id", run_id, "--output_dir", str(tmp_path))
        assert result.exit_code == 0, result.output
        assert (tmp_path / run_id / "result.json").exists()


def test_a_default_run_directory_name_is_checked_too(tmp_path):
    # The default name is <network>_<type>_<NNN>; from Python any network name reaches it.
    config = resolve_config({"dataset_name": "synthetic", "synthetic_shape": [6], "sequence": "fcReLu"},
                            "../../../escaped", {"epochs": 1})
    out = tmp_path / "a" / "b"
    with pytest.raises(ConfigError, match="path separator"):
        run_experiment(config, str(out), log=lambda line: None)
    assert all_files(tmp_path) == []


# -- places that cannot be written ---------------------------------------------------------------

def refusing_directory(tmp_path):
    """A directory whose subdirectories cannot be created, whoever we are."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        return str(locked)
    try:
        os.mkdir("/sys/zppmem-write-test")
    except OSError:
        return "/sys"
    os.rmdir("/sys/zppmem-write-test")
    pytest.skip("running as root and /sys takes directories: no place refuses writes")


def test_an_output_dir_under_a_regular_file(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    result = invoke("--epochs", "1", "--output_dir", str(tmp_path / "file" / "runs"))
    assert result.exit_code == 2
    assert error_line(result) == \
        f"Error: cannot create the run directory: {tmp_path / 'file' / 'runs'}: Not a directory"


def test_a_read_only_output_dir(tmp_path):
    place = os.path.join(refusing_directory(tmp_path), "zppmem-runs")
    result = invoke("--epochs", "1", "--output_dir", place)
    assert result.exit_code == 2
    line = error_line(result)
    assert place in line and ("Permission denied" in line or "Operation not permitted" in line)


def test_a_data_dir_under_a_regular_file_fails_before_any_download(tmp_path):
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(main, ["--dataset_name", "mnist", "--sequence", "fcReLu", "--epochs", "1",
                                       "--data_dir", str(tmp_path / "file" / "data"), "--output_dir",
                                       str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert error_line(result) == f"Error: --data_dir {tmp_path / 'file' / 'data'}: Not a directory"
    assert not (tmp_path / "runs").exists()


def test_a_save_model_path_that_cannot_be_written_fails_before_training(tmp_path):
    (tmp_path / "file").write_text("")
    result = invoke("--epochs", "1", "--save_model", "true", "--set", f"save_model_path={tmp_path}/file/m/model.ckpt",
                    "--output_dir", str(tmp_path / "runs"))
    assert result.exit_code == 2
    assert "save_model_path" in error_line(result) and "Not a directory" in error_line(result)
    assert not (tmp_path / "runs").exists()


# -- the disk failing mid-run --------------------------------------------------------------------

def failing(monkeypatch, name, when):
    """Make os.<name>(path, ...) raise ENOSPC whenever when(path) holds."""
    real = getattr(os, name)

    def fake(path, *args, **kwargs):
        if when(os.fspath(path)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))
        return real(path, *args, **kwargs)
    monkeypatch.setattr(os, name, fake)


def test_a_full_disk_while_checkpointing_stops_the_run_and_it_resumes(tmp_path, monkeypatch):
    # Epoch 1's checkpoint is saved; epoch 2's cannot be: exit 1, no result.json, and the
    # run continues from epoch 1 once the disk has room again.
    def second_checkpoint(path):
        root = os.path.join(tmp_path, "run", "checkpoints")
        return path.startswith(os.path.join(root, ".")) and bool(checkpoints.list_checkpoints(root))
    failing(monkeypatch, "makedirs", second_checkpoint)
    result = invoke("--epochs", "3", "--seed", "3", "--output_dir", str(tmp_path), "--id", "run")
    assert result.exit_code == 1
    run_dir = tmp_path / "run"
    lines = result.output.strip().splitlines()
    assert lines[:-1] == [lines[0]] and lines[0].startswith("finished epoch 1")
    assert lines[-1].startswith(f"Error: cannot write {run_dir}/checkpoints/.epoch_2")
    assert lines[-1].endswith(f": No space left on device; the run stopped; once it can be written, "
                              f"continue with: experiment --resume {run_dir}")
    assert not (run_dir / "result.json").exists()
    assert [name for name in os.listdir(run_dir / "checkpoints")] == ["epoch_1"]  # no half checkpoint
    monkeypatch.undo()

    resumed = CliRunner().invoke(main, ["--resume", str(run_dir)])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((run_dir / "result.json").read_text())["epochs_completed"] == 3


def test_a_full_disk_when_writing_the_result_leaves_no_result(tmp_path, monkeypatch):
    real_replace = os.replace  # os.replace(temporary file, result.json): fail the rename

    def replace(src, dst, *args, **kwargs):
        if os.fspath(dst).endswith("result.json"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(dst))
        return real_replace(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, "replace", replace)
    result = invoke("--epochs", "1", "--output_dir", str(tmp_path), "--id", "run")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith(
        f"Error: cannot write the result: {tmp_path / 'run' / 'result.json'}: No space left on device")
    # No result, nor its temporary file; the epoch's history row was written as the epoch ended.
    assert sorted(os.listdir(tmp_path / "run")) == ["config.json", "history.csv"]
