"""Measured kernels: sizes against hand-computed tensors, the cache, and what `experiment plan` says.

Under both kernel families (`make test`): the sizes of outputs and gradients do not depend on
the library, the scratch and the fusions do (oneDNN fuses a filter gradient with its bias's,
Eigen holds im2col buffers), so only the former are compared with numbers written here.
"""
import json
import os
from dataclasses import replace

import pytest
from click.testing import CliRunner

from layers import ConvolutionalLayer, FullyConnected, MaxPool, ReLu
from layers.base import layer_to_config
from training.blocks import build_blocks, split_into_blocks
from training.cli import main
from training.kernel_cache import entry_key, entry_path, read_entry
from training.kernel_probe import layer_configs, measure_block
from training.kernels import kernel_family
from training.measured_kernels import MeasuredKernels

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

FLOAT = 4


def sizes(ops):
    return {tensor: size for op in ops for tensor, size in op.outputs}


def configs(*layers):
    return layer_configs(split_into_blocks(list(layers))[0])


def test_a_dense_block_measures_its_output_and_gradients_at_their_sizes():
    batch, inputs, units = 8, 24, 40
    kernels = measure_block(configs(FullyConnected(units), ReLu()), (inputs,), batch)
    assert sizes(kernels.forward)[kernels.output] == batch * units * FLOAT
    to_input = kernels.backward(need_dx=True)
    backward = sizes(to_input.ops)
    assert backward[to_input.input_gradient] == batch * inputs * FLOAT
    assert [backward[g] for g in to_input.weight_gradients] == [inputs * units * FLOAT, units * FLOAT]
    to_weights = kernels.backward(need_dx=False)
    assert [sizes(to_weights.ops)[g] for g in to_weights.weight_gradients] == [inputs * units * FLOAT, units * FLOAT]
    assert to_weights.input_gradient is None
    assert kernels.forward_time_us > 0 and to_input.time_us > 0


def test_a_conv_block_measures_its_pooled_output_and_its_input_gradient():
    batch, side, channels, filters = 4, 12, 3, 8
    kernels = measure_block(configs(ConvolutionalLayer((3, 3), filters), ReLu(), MaxPool([2, 2], [2, 2])),
                            (side, side, channels), batch)
    forward = sizes(kernels.forward)
    assert forward[kernels.output] == batch * (side // 2) ** 2 * filters * FLOAT
    # The convolution's output (kept for the backward pass, whatever the library fused into it).
    assert batch * side * side * filters * FLOAT in forward.values()
    to_input = kernels.backward(need_dx=True)
    assert sizes(to_input.ops)[to_input.input_gradient] == batch * side * side * channels * FLOAT
    assert sizes(to_input.ops)[to_input.weight_gradients[0]] == 3 * 3 * channels * filters * FLOAT


@pytest.fixture
def dense_blocks():
    blocks = split_into_blocks([FullyConnected(16, flatten=True), ReLu(), FullyConnected(16), ReLu(),
                                FullyConnected(4)])
    import tensorflow as tf
    with tf.Graph().as_default():
        build_blocks(blocks, [6, 6, 1])
    return blocks


def test_the_cache_is_read_when_it_holds_the_entry_and_measured_again_when_not(dense_blocks, tmp_path):
    first = MeasuredKernels(dense_blocks, threads=2, cache_directory=str(tmp_path))
    measured = [first(block, 8) for block in dense_blocks]
    assert (first.measured, first.read) == (3, 0)
    assert "measured 3 block kernel sets" in first.report()

    second = MeasuredKernels(dense_blocks, threads=2, cache_directory=str(tmp_path))
    assert [second(block, 8) for block in dense_blocks] == measured  # the same ops, from disk
    assert (second.measured, second.read) == (0, 3) and "read 3 from the cache" in second.report()
    second(dense_blocks[0], 16)  # another batch size: another entry
    assert second.measured == 1

    family = kernel_family()
    key = entry_key(family, layer_configs(dense_blocks[1]), (16,), 8, 2)
    path = entry_path(key, str(tmp_path))
    assert read_entry(key, str(tmp_path)) == measured[1]
    # Another TensorFlow version is another key, so another file: a miss, not this entry.
    other = entry_key(replace(family, tensorflow="0.0.0"), layer_configs(dense_blocks[1]), (16,), 8, 2)
    assert entry_path(other, str(tmp_path)) != path and read_entry(other, str(tmp_path)) is None
    # An entry whose stored key is another's (a copied file) is not trusted.
    with open(path) as handle:
        data = json.load(handle)
    data["key"]["tensorflow"] = "0.0.0"
    with open(path, "w") as handle:
        json.dump(data, handle)
    assert read_entry(key, str(tmp_path)) is None
    # A corrupt entry is measured again and rewritten.
    with open(path, "w") as handle:
        handle.write('{"key": ')
    third = MeasuredKernels(dense_blocks, threads=2, cache_directory=str(tmp_path))
    again = third(dense_blocks[1], 8)
    assert third.measured == 1 and sizes(again.forward) == sizes(measured[1].forward)  # times differ, sizes not
    assert read_entry(key, str(tmp_path)) == again


def test_experiment_plan_says_which_kernels_it_predicted_for_and_where_they_came_from(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    args = ["plan", "--name", "default_network", "--dataset_name", "synthetic", "--set", "synthetic_shape=[5, 5, 1]",
            "--batch_size", "8", "--types", "BP"]
    first = CliRunner().invoke(main, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    family = kernel_family()
    header = next(line for line in first.output.splitlines() if line.startswith("kernels: "))
    assert header.startswith(f"kernels: {family.library} on {family.device}, TensorFlow {family.tensorflow}; measured ")
    assert os.listdir(os.path.join(str(tmp_path), "zppmem", "kernels"))
    second = CliRunner().invoke(main, args, catch_exceptions=False)
    assert "; read " in second.output and " from the cache" in second.output and "; measured" not in second.output
