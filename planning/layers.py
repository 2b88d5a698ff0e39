"""What each layer allocates in a training step, forward and backward: the model's rules.

Each rule mirrors the ops TensorFlow 2.21 runs on a CPU for that layer (after Grappler's
fusions), as seen in traces of single layers. Sizes come from shapes; which buffers stay alive
follows from which later ops read them (planning.program). The rules, one line each:

- FullyConnected: forward, one output (MatMul and BiasAdd fused); `flatten` is a view.
  Backward: the kernel gradient (reads the input), the bias gradient, and the input gradient
  (reads the kernel, or FA's feedback matrix) when the block needs it.
- ConvolutionalLayer: forward, one output (Conv2D, bias fused). Backward: Conv2DBackpropFilter
  (kernel gradient) and Conv2DBackpropInput (input gradient, when needed) run side by side,
  and each holds an im2col buffer while it runs: shard x (output pixels) x (kh kw Cin) floats,
  where shard = ceil((30 MiB / 4) / work) and work = P F + P Cout + F Cout floats per image
  (P output pixels, F = kh kw Cin); the input gradient uses one image at a time (shard 1) when
  the batch is 1 or work / threads >= 64 Ki floats (TensorFlow's conv_grad_*_ops.cc).
- Sigmoid, Tanh, ReLu: forward and gradient in place (buffer forwarding); the gradient reads
  the output, which therefore lives until the backward pass. LeakyReLu reads its input.
  Softmax allocates its output and three gradient tensors.
- MaxPool: an output; its gradient reads input and output, writes the input gradient into the
  input's buffer and copies the output into the output's when nothing else reads them (new
  buffers otherwise), and holds an int64 argmax of the output's shape. AveragePool: an output; its gradient
  reads neither. Global average pooling: a (batch, channels) mean, and a broadcast gradient.
- BatchNormalization, fused (FusedBatchNormV3, the layer's default over the last axis of a 2-D
  or 4-D input): forward, the output (full size) and five per-channel values (batch mean and
  variance, two saved for the gradient, one float more); the input lives until the backward
  pass, whose one op (FusedBatchNormGradV3) writes the input gradient (full size) and the two
  per-channel gradients, holding one per-channel vector while it runs.
- BatchNormalization, unfused (moments + batch_normalization: fused=False, or another axis or
  rank): forward, a squared-difference temporary and the output, both full size, plus
  per-channel values; the input lives until the backward pass, which makes five full-size
  tensors: the gradient times the input (for the scale), the scaled gradient, two broadcasts
  and the centred input.
- ResidualLayer: the inner layers, a projection when shapes differ, and an Add (a new buffer
  unless an operand has no other reader); its gradient adds the two paths in place.
"""
import numpy as np

from planning.program import Op

L3_FLOATS = (30 << 20) // 4  # TensorFlow's target working set for CPU conv gradients
L2_FLOATS = (256 << 10) // 4


class Weights:
    """The step's view of a layer's variables (external tensors) and, under FA, of the feedback
    kernel its input gradient reads instead of the kernel. A residual layer has one per part."""

    def __init__(self, builder, layer, feedback_kernels=None):
        feedback_kernels = feedback_kernels if feedback_kernels is not None else {}
        self.tensors = [builder.given(f"{layer.name}/var{i}") for i, _ in enumerate(layer.variables)]
        self.shapes = list(layer.variables)
        self.feedback_kernel = feedback_kernels.get(layer.name)
        self.parts = [Weights(builder, part, feedback_kernels) for part in layer.parts] \
            if layer.kind == "ResidualLayer" else []


def forward(b, layer, x, weights, training=True):
    """(output tensor, saved values for the backward pass)."""
    return FORWARD[layer.kind](b, layer, x, weights)


def backward(b, layer, dy, saved, need_dx):
    """(input gradient or None, [weight gradient tensors])."""
    return BACKWARD[layer.kind](b, layer, dy, saved, need_dx)


# -- dense ----------------------------------------------------------------------------------
def _dense_forward(b, layer, x, weights):
    flat = b.alias("Reshape", x) if layer.settings.get("flatten") and len(layer.input) != 1 else x
    label = "BiasAdd" if layer.settings.get("add_biases", True) else "MatMul"
    y = b.new(label, layer.output, "activation", inputs=[flat, *weights.tensors], flops=dense_flops(b, layer))
    return y, {"x": flat, "weights": weights}


def _dense_backward(b, layer, dy, saved, need_dx):
    weights = saved["weights"]
    # FA's backward (layers/base.py) builds B once the error arrives, then the input gradient
    # through it, then the kernel's gradient, which waits for the input gradient; a B made from
    # the weights (USF's, BRSF's and FRSF's sign(W)) is as large as the kernel's gradient, so the
    # order shows in the peak. Without a feedback kernel the kernel's gradient comes first.
    kernel_last = need_dx and weights.feedback_kernel is not None

    def kernel_gradient():
        return _unbatched(b, "MatMul_grad/MatMul_1", weights.shapes[0], [saved["x"], dy], dense_flops(b, layer))

    grads = [] if kernel_last else [kernel_gradient()]
    if len(weights.shapes) > 1:
        grads.append(_unbatched(b, "BiasAdd_grad/BiasAddGrad", weights.shapes[1], [dy]))
    dx = None
    if need_dx:
        kernel = weights.feedback_kernel() if weights.feedback_kernel else weights.tensors[0]
        dx = b.new("MatMul_grad/MatMul", (int(np.prod(layer.input)),), "gradient", inputs=[dy, kernel],
                   flops=dense_flops(b, layer))
        if layer.settings.get("flatten") and len(layer.input) != 1:
            dx = b.alias("Reshape_grad", dx)
    if kernel_last:
        grads.insert(0, kernel_gradient())
    return dx, grads


# -- convolution ----------------------------------------------------------------------------
def conv_dims(layer):
    """(output pixels P, F = kh kw Cin, Cout) of a convolution."""
    kh, kw, cin, cout = layer.kernel
    pixels = int(layer.output[0]) * int(layer.output[1])
    return pixels, kh * kw * cin, cout


def filter_gradient_buffer(layer, batch):
    """Bytes of Conv2DBackpropFilter's im2col buffer."""
    pixels, patch, cout = conv_dims(layer)
    work = pixels * patch + pixels * cout + patch * cout
    shard = -(-L3_FLOATS // work)
    return shard * pixels * patch * 4


def input_gradient_buffer(layer, batch, threads):
    """Bytes of Conv2DBackpropInput's col buffer."""
    pixels, patch, cout = conv_dims(layer)
    work = pixels * cout + patch * cout + pixels * patch
    parallel = batch == 1 or work // max(threads, 1) >= L2_FLOATS
    shard = 1 if parallel else -(-L3_FLOATS // work)
    return shard * pixels * patch * 4


def _conv_forward(b, layer, x, weights):
    y = b.new("Conv2D", layer.output, "activation", inputs=[x, *weights.tensors], flops=_conv_flops(b, layer))
    return y, {"x": x, "weights": weights}


def _conv_backward(b, layer, dy, saved, need_dx):
    weights = saved["weights"]
    grads = []
    if len(weights.shapes) > 1:
        grads.append(_unbatched(b, "BiasAdd_grad/BiasAddGrad", weights.shapes[1], [dy]))
    kernel_grad = b.tensor("Conv2D_grad/Conv2DBackpropFilter", _bytes_of(weights.shapes[0]), "gradient")
    filter_buffer = (filter_gradient_buffer(layer, b.batch), "gradient")
    dx = None
    if need_dx:
        kernel = weights.feedback_kernel() if weights.feedback_kernel else weights.tensors[0]
        dx = b.tensor("Conv2D_grad/Conv2DBackpropInput", b.batch_bytes(layer.input), "gradient")
        input_buffer = (input_gradient_buffer(layer, b.batch, b.threads), "gradient")
    # One op at a time: the input gradient (what the chain waits for), then the filter gradient.
    flops = _conv_flops(b, layer)
    if need_dx:
        b.op("Conv2D_grad/Conv2DBackpropInput", [dy, kernel], [dx], [input_buffer], flops=flops)
    b.op("Conv2D_grad/Conv2DBackpropFilter", [saved["x"], dy], [kernel_grad], [filter_buffer], flops=flops)
    grads.insert(0, kernel_grad)
    return dx, grads


# -- activations ------------------------------------------------------------------------------
def _in_place_forward(op):
    def rule(b, layer, x, weights):
        y = b.new(op, layer.output, "activation", inputs=[x], in_place=[x])
        return y, {"y": y}
    return rule


def _in_place_backward(op, output_first):
    """TanhGrad(y, dy) and SigmoidGrad(y, dy) take over y's buffer if they can, else dy's;
    ReluGrad(dy, y) tries dy first (TensorFlow's forward_input_or_allocate_output order)."""
    def rule(b, layer, dy, saved, need_dx):
        order = [saved["y"], dy] if output_first else [dy, saved["y"]]
        return b.new(op, layer.input, "gradient", inputs=order, in_place=order), []
    return rule


def _leaky_forward(b, layer, x, weights):
    return b.new("LeakyRelu", layer.output, "activation", inputs=[x], in_place=[x]), {"x": x}


def _leaky_backward(b, layer, dy, saved, need_dx):
    return b.new("LeakyRelu_grad", layer.input, "gradient", inputs=[dy, saved["x"]], in_place=[dy]), []


def _softmax_forward(b, layer, x, weights):
    y = b.new("Softmax", layer.output, "activation", inputs=[x])
    return y, {"y": y}


def _softmax_backward(b, layer, dy, saved, need_dx):
    product = b.new("Softmax_grad/mul", layer.output, "gradient", inputs=[dy, saved["y"]])
    total = b.new("Softmax_grad/Sum", (1,), "gradient", inputs=[product])
    centred = b.new("Softmax_grad/sub", layer.output, "gradient", inputs=[dy, total], in_place=[dy])
    return b.new("Softmax_grad/mul_1", layer.input, "gradient", inputs=[centred, saved["y"]], in_place=[centred]), []


# -- pooling -------------------------------------------------------------------------------------
def _pool_forward(b, layer, x, weights):
    if layer.kind == "AveragePool" and layer.settings.get("kernel_size") is None:
        return b.new("Mean", layer.output, "activation", inputs=[x]), {}
    label = "MaxPool2d" if layer.kind == "MaxPool" else "AvgPool2d"
    y = b.new(label, layer.output, "activation", inputs=[x])
    return y, ({"x": x, "y": y} if layer.kind == "MaxPool" else {})


def _pool_backward(b, layer, dy, saved, need_dx):
    if layer.kind == "MaxPool":
        # MaxPoolGrad(x, y, dy) writes the input gradient into x's buffer and copies y into y's
        # own when nothing else reads them, else into new ones; it always holds an int64 argmax.
        dx = b.tensor("MaxPool2d_grad/MaxPoolGrad", b.batch_bytes(layer.input), "gradient")
        copy = b.tensor("MaxPool2d_grad/MaxPoolGrad/tensor_out_dup", b.batch_bytes(layer.output), "gradient")
        argmax = (b.batch_bytes(layer.output, 8), "gradient")
        b.ops.append(Op(f"{b.scope_name('MaxPool2d_grad/MaxPoolGrad')}", (saved["x"], saved["y"], dy), (dx, copy),
                        (argmax,), {}, {dx.name: (saved["x"].name,), copy.name: (saved["y"].name,)},
                        _pool_flops(b, layer)))
        return dx, []
    if layer.settings.get("kernel_size") is None:
        return b.new("Mean_grad", layer.input, "gradient", inputs=[dy]), []
    return b.new("AvgPool2d_grad/AvgPoolGrad", layer.input, "gradient", inputs=[dy]), []


# -- batch normalization -------------------------------------------------------------------------
def bn_is_fused(layer):
    """Whether the layer runs FusedBatchNormV3 (layers/batch_norm.py): over the last axis of a
    (batch, C) or (batch, H, W, C) input, unless built with fused=False."""
    rank = len(layer.input) + 1
    axis = layer.settings.get("axis", -1) % rank
    return layer.settings.get("fused", True) and rank in (2, 4) and axis == rank - 1


def _bn_forward(b, layer, x, weights):
    if bn_is_fused(layer):
        return _fused_bn_forward(b, layer, x, weights)
    return _unfused_bn_forward(b, layer, x, weights)


def _bn_backward(b, layer, dy, saved, need_dx):
    if bn_is_fused(layer):
        return _fused_bn_backward(b, layer, dy, saved, need_dx)
    return _unfused_bn_backward(b, layer, dy, saved, need_dx)


def _fused_bn_forward(b, layer, x, weights):
    channels = layer.variables[0][0]
    gamma, beta = weights.tensors
    y = b.tensor("FusedBatchNormV3", b.batch_bytes(layer.output), "activation")
    per_channel = [b.tensor(f"FusedBatchNormV3:{i}", _bytes_of((channels,)), "activation") for i in range(1, 5)]
    last = b.tensor("FusedBatchNormV3:5", _bytes_of((1,)), "activation")
    b.op("FusedBatchNormV3", [x, gamma, beta], [y, *per_channel, last])
    return y, {"x": x, "gamma": gamma, "reserve": [*per_channel[2:], last]}


def _fused_bn_backward(b, layer, dy, saved, need_dx):
    channels = layer.variables[0][0]
    dx = b.tensor("FusedBatchNormV3_grad/FusedBatchNormGradV3", b.batch_bytes(layer.input), "gradient")
    dgamma, dbeta = (b.tensor(f"FusedBatchNormV3_grad/FusedBatchNormGradV3:{i}", _bytes_of((channels,)), "gradient")
                     for i in (1, 2))
    scratch = (_bytes_of((channels,)), "gradient")
    b.op("FusedBatchNormV3_grad/FusedBatchNormGradV3", [dy, saved["x"], saved["gamma"], *saved["reserve"]],
         [dx, dgamma, dbeta], [scratch])
    return dx, [dgamma, dbeta]


def _unfused_bn_forward(b, layer, x, weights):
    channels = layer.variables[0][0]
    gamma, beta = weights.tensors
    mean = b.small("moments/mean", channels, "activation", [x])
    squared = b.new("moments/SquaredDifference", layer.input, "activation", inputs=[x, mean])
    variance = b.small("moments/variance", channels, "activation", [squared])
    scale = b.small("batchnorm/mul", channels, "activation", [variance, gamma])
    shift = b.small("batchnorm/sub", channels, "activation", [beta, mean, scale])
    scaled = b.new("batchnorm/mul_1", layer.output, "activation", inputs=[x, scale])
    y = b.new("batchnorm/add_1", layer.output, "activation", inputs=[scaled, shift], in_place=[scaled])
    return y, {"x": x, "mean": mean, "variance": variance, "scale": scale, "gamma": gamma}


def _unfused_bn_backward(b, layer, dy, saved, need_dx):
    channels = layer.variables[0][0]
    x, mean, scale = saved["x"], saved["mean"], saved["scale"]
    product = b.new("batchnorm/mul_1_grad/Mul_1", layer.input, "gradient", inputs=[dy, x], in_place=[dy])
    scaled = b.new("batchnorm/mul_1_grad/Mul", layer.input, "gradient", inputs=[dy, scale])
    dbeta = b.small("batchnorm/add_1_grad/Sum", channels, "gradient", [dy])
    mean_part = b.new("moments/mean_grad/BroadcastTo", layer.input, "gradient", inputs=[dbeta, scale])
    dscale = b.small("batchnorm/mul_1_grad/Sum", channels, "gradient", [product])
    dgamma = b.small("batchnorm/mul_grad/Mul_1", channels, "gradient", [dscale, saved["variance"]])
    variance_part = b.new("moments/variance_grad/BroadcastTo", layer.input, "gradient",
                          inputs=[dscale, saved["gamma"], saved["variance"]])
    centred = b.new("moments/SquaredDifference_grad/sub", layer.input, "gradient", inputs=[x, mean])
    variance_part = b.new("moments/SquaredDifference_grad/mul", layer.input, "gradient",
                          inputs=[variance_part, centred], in_place=[variance_part, centred])
    dx = b.new("AddN", layer.input, "gradient", inputs=[scaled, mean_part, variance_part], in_place=[scaled])
    return dx, [dgamma, dbeta]


# -- residual -------------------------------------------------------------------------------------
def _residual_forward(b, layer, x, weights):
    saved, h = [], x
    for part, part_weights in zip(layer.inner, weights.parts):
        with b.scope(part.name.rsplit("/", 1)[-1]):
            h, part_saved = forward(b, part, h, part_weights)
        saved.append(part_saved)
    shortcut, projection_saved = x, None
    if layer.projection is not None:
        with b.scope("projection"):
            shortcut, projection_saved = forward(b, layer.projection, x, weights.parts[-1])
    y = b.new("add", layer.output, "activation", inputs=[h, shortcut], in_place=[h, shortcut])
    return y, {"inner": saved, "projection": projection_saved}


def _residual_backward(b, layer, dy, saved, need_dx):
    grads, dh = [], dy
    for index in range(len(layer.inner) - 1, -1, -1):
        part = layer.inner[index]
        with b.scope(part.name.rsplit("/", 1)[-1]):
            dh, part_grads = backward(b, part, dh, saved["inner"][index], need_dx or index > 0)
        grads = part_grads + grads
    dshort = dy
    if layer.projection is not None:
        with b.scope("projection"):
            dshort, projection_grads = backward(b, layer.projection, dy, saved["projection"], need_dx)
        grads += projection_grads
    if not need_dx:
        return None, grads
    return b.new("add_grad/AddN", layer.input, "gradient", inputs=[dh, dshort], in_place=[dh, dshort]), grads


def _bytes_of(shape):
    return int(np.prod(shape, dtype=np.int64)) * 4


def _unbatched(b, label, shape, inputs, flops=0):
    out = b.tensor(label, _bytes_of(shape), "gradient")
    return b.op(label, inputs, [out], flops=flops)


def _pool_flops(b, layer):
    return b.batch * int(np.prod(layer.input))


def dense_flops(b, layer):
    """2 x the multiply-adds of a dense layer's product on the program's batch."""
    return 2 * b.batch * int(np.prod(layer.input)) * int(layer.output[-1])


def _conv_flops(b, layer):
    pixels, patch, cout = conv_dims(layer)
    return 2 * b.batch * pixels * patch * cout


FORWARD = {
    "FullyConnected": _dense_forward, "ConvolutionalLayer": _conv_forward,
    "Sigmoid": _in_place_forward("Sigmoid"), "Tanh": _in_place_forward("Tanh"), "ReLu": _in_place_forward("Relu"),
    "LeakyReLu": _leaky_forward, "Softmax": _softmax_forward,
    "MaxPool": _pool_forward, "AveragePool": _pool_forward,
    "BatchNormalization": _bn_forward, "ResidualLayer": _residual_forward,
}
BACKWARD = {
    "FullyConnected": _dense_backward, "ConvolutionalLayer": _conv_backward,
    "Sigmoid": _in_place_backward("Sigmoid_grad/SigmoidGrad", True),
    "Tanh": _in_place_backward("Tanh_grad/TanhGrad", True),
    "ReLu": _in_place_backward("Relu_grad/ReluGrad", False),
    "LeakyReLu": _leaky_backward, "Softmax": _softmax_backward,
    "MaxPool": _pool_backward, "AveragePool": _pool_backward,
    "BatchNormalization": _bn_backward, "ResidualLayer": _residual_backward,
}
