"""Run directories: `<output_dir>/<network>_<type>_<NNN>` (or `<id>` when --id is given)."""
import os

from training.files import atomic_write_json


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


def write_config(run_dir, config):
    atomic_write_json(os.path.join(run_dir, "config.json"), config.to_dict())


def write_result(run_dir, result):
    atomic_write_json(os.path.join(run_dir, "result.json"), result)
