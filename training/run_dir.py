"""Run directories: `<output_dir>/<network>_<type>_<NNN>` (or `<id>` when --id is given)."""
import json
import math
import numbers
import os
import shutil

from definitions.errors import ConfigError
from definitions.files import atomic_write_json


def create_run_dir(output_dir, network, algorithm, run_id=None):
    os.makedirs(output_dir, exist_ok=True)
    if run_id:
        path = os.path.join(output_dir, str(run_id))
        os.makedirs(path, exist_ok=True)
        return path
    prefix = f"{network}_{algorithm}_"
    taken = [int(n[len(prefix):]) for n in os.listdir(output_dir)
             if n.startswith(prefix) and n[len(prefix):].isdigit()]
    number = max(taken, default=0) + 1
    while True:  # mkdir is atomic: two runs started at once never share a directory
        path = os.path.join(output_dir, f"{prefix}{number:03d}")
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            number += 1


def clear_previous_run(run_dir):
    """A fresh run in a reused directory (--id): the old result and checkpoints are not its own.

    Left in place, `--resume` would report the old result or continue the old run.
    """
    if os.path.exists(os.path.join(run_dir, "result.json")):
        os.remove(os.path.join(run_dir, "result.json"))
    shutil.rmtree(os.path.join(run_dir, "checkpoints"), ignore_errors=True)


def write_config(run_dir, config):
    atomic_write_json(os.path.join(run_dir, "config.json"), config.to_dict())


def read_config(run_dir):
    """The validated config a run was started with (its config.json)."""
    from definitions.config import validate
    path = os.path.join(run_dir, "config.json")
    try:
        with open(path, encoding="utf-8") as handle:
            values = json.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{run_dir!r} is not a run directory: it has no config.json") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    try:
        return validate(values)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def read_result(run_dir):
    """result.json as a dict, or None when it is missing or unreadable (the run did not finish)."""
    try:
        with open(os.path.join(run_dir, "result.json"), encoding="utf-8") as handle:
            result = json.load(handle)
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) else None


def write_result(run_dir, result):
    atomic_write_json(os.path.join(run_dir, "result.json"), _finite(result))


def _finite(value):
    """NaN and Inf (a diverged loss) become null: JSON has neither, and strict readers reject them."""
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
