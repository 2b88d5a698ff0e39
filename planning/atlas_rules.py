"""The orders of issue 23's rules, as StepProgram methods (planning/algorithms.py mixes them in).

USF, BRSF, FRSF: FA's order; each kernel's feedback matrix is built when the error reaches its
layer (layers/base.py waits for it) and lives until the block's input gradient is computed.
FGRAD: one forward pass in which each layer's tangent follows its output; then one block at a
time, the tangents drawn again and applied. MEZO: three in-place moves of the weights (one
variable at a time), two forward passes that keep nothing, one update per block.
Each follows its module in training/algorithms/ op for op at the level of tensors of a batch or a
weight's size; scalars are left out.
"""
from definitions.errors import ConfigError
from planning.builder import FLOAT
from planning.layers import dense_flops
from planning.measured import OUTPUT_GRADIENT, replay

#: What FGRAD has tangents for (training/tangents.py).
FGRAD_LAYERS = ("FullyConnected", "Sigmoid", "Tanh", "ReLu", "LeakyReLu")


def _elements(shape):
    total = 1
    for dim in shape:
        total *= int(dim)
    return total


# The op that makes a kernel's input gradient, by the kernel's forward op (TensorFlow's gradient names).
_INPUT_GRADIENT_OP = {"ConvolutionalLayer": ("Conv2D", "Conv2DBackpropInput"), "FullyConnected": ("MatMul", "MatMul")}


def _input_gradient_ops(parts, ops):
    """{name of the measured op that makes part's input gradient: part}, or None where a part's op
    is not found. The k-th kernel of a kind is the k-th forward op of its type (Conv2D, Conv2D_1,
    ...), as the block's layers made them."""
    found, count = {}, {}
    for part in parts:
        if part.kind not in _INPUT_GRADIENT_OP:
            return None
        forward, gradient = _INPUT_GRADIENT_OP[part.kind]
        index = count.get(forward, 0)
        count[forward] = index + 1
        suffix = f"/{forward}{'_' + str(index) if index else ''}_grad/{gradient}"
        names = [op.name for op in ops if op.name.endswith(suffix)]
        if len(names) != 1:
            return None
        found[names[0]] = part
    return found


class AtlasSteps:
    # -- sign-symmetric feedback -------------------------------------------------------------
    def usf(self):
        return self._sign_symmetric(draw=False, stored=False)

    def brsf(self):
        return self._sign_symmetric(draw=True, stored=False)

    def frsf(self):
        return self._sign_symmetric(draw=self.regenerate, stored=not self.regenerate)

    def _sign_feedback(self, layer, draw, stored):
        """B = magnitude * sign(W): the draw or the stored R's |R| (a new tensor), sign(W) (a new
        one) and the product in place; USF's magnitude is a scalar."""
        b, n = self.b, _elements(layer.kernel)
        with b.scope(f"backward/sign_feedback/{layer.name}"):
            magnitude = None
            if draw:
                magnitude = b.small("stateless_random_uniform", n, "gradient")
                magnitude = b.op("Abs", [magnitude], [b.tensor("Abs", n * 4, "gradient")], in_place=[magnitude])
            elif stored:
                magnitude = b.small("Abs", n, "gradient", inputs=[b.given(f"feedback/{layer.name}")])
            sign = b.small("Sign", n, "gradient", inputs=[b.given(f"{layer.name}/var0")])
            return b.op("mul", [sign, magnitude], [b.tensor("mul", n * 4, "gradient")],
                        in_place=[magnitude, sign] if magnitude is not None else [sign])

    def _sign_symmetric(self, draw, stored):
        """FA's order (StepProgram.bp with each block applied). The feedback of a block's kernels is
        built once the error reaches the layer, right before its input gradient, which reads it; the
        kernel's gradient runs after the input gradient (layers/base.py orders the two)."""
        one_hot = self.labels()
        feedback = {part.name: (lambda part=part: self._sign_feedback(part, draw, stored)) for block in self.blocks
                    for layer in block.layers for part in layer.parts
                    if part.kind in ("FullyConnected", "ConvolutionalLayer", "MultiHeadAttention")}
        weights = [self.weights(block, feedback) for block in self.blocks]
        logits, _, saved = self.first_pass(weights)
        _, gradient = self.loss_and_error(logits, one_hot)
        for block in reversed(self.blocks):
            need_dx = block.index > 0
            if need_dx and self.kernels is not None:
                gradient, grads = self._measured_backward_with_feedback(block, gradient, saved[block.index], feedback)
            else:  # the layer rules call the feedback where their input gradient reads it
                gradient, grads = self.backward_block(block, gradient, saved[block.index], need_dx=need_dx)
            self.apply(grads, f"block_{block.index}")
        return self.b

    def _measured_backward_with_feedback(self, block, dy, saved, feedback):
        """The measured backward to the weights and the input (which reads W, not B), in the probe's
        order, which is the step's (training/gradients.py: a layer's input gradient before its
        kernel's): B is built once the error reaches the layer, right before the op that makes the
        input gradient, and read by it; the kernel's gradient follows."""
        b, measured = self.b, self.kernels(block).backward(True)
        env = dict(saved, **{OUTPUT_GRADIENT: dy})
        makes_dx = [op for op in measured.ops if any(o == measured.input_gradient for o, _ in op.outputs)]
        index = measured.ops.index(makes_dx[0]) if makes_dx else len(measured.ops)
        rest, makes_dx = list(measured.ops[:index]), list(measured.ops[index:])
        parts = [part for layer in block.layers for part in layer.parts if part.name in feedback]
        reads = _input_gradient_ops(parts, measured.ops)
        if reads is not None and len(parts) > 1:
            # A block of several kernels (a residual block): each B is built when the error reaches
            # its layer and read by that layer's input gradient, one at a time, as the step runs.
            with b.scope(f"backward/block_{block.index}"):
                for op in measured.ops:
                    part = reads.get(op.name)
                    held = [feedback[part.name]()] if part is not None else []
                    replay(b, [op], env, "gradient")
                    if held:
                        b.op("feedback_read", held, [])
            return env.get(measured.input_gradient), [env[g] for g in measured.weight_gradients if g in env]
        with b.scope(f"backward/block_{block.index}"):
            replay(b, rest, env, "gradient")
        held = [feedback[part.name]() for part in parts]
        with b.scope(f"backward/block_{block.index}"):
            replay(b, makes_dx[:1], env, "gradient")
            b.op("feedback_read", held, [])
            replay(b, makes_dx[1:], env, "gradient")
        return env.get(measured.input_gradient), [env[g] for g in measured.weight_gradients if g in env]

    # -- forward gradient -------------------------------------------------------------------
    def fgrad(self):
        """training/algorithms/fgrad.py's order, block by block in lockstep: dx W (ready with the block's
        input, it frees dx), the forward pass, the tangents of the weights (drawn once the block's
        output exists), each activation's slope from its output, x dW, the sums and products in place."""
        for block in self.blocks:
            for layer in block.layers:
                if layer.kind not in FGRAD_LAYERS or (layer.kind == "FullyConnected" and len(layer.input) != 1
                                                      and not layer.settings.get("flatten")):
                    raise ConfigError(f"FGRAD computes forward gradients of dense layers on (batch, features) and "
                                      f"pointwise activations ({', '.join(FGRAD_LAYERS)}); block_{block.index} "
                                      f"has {layer.kind}")
        activity = getattr(self, "fgrad_perturbation", "weights") == "activity"
        copies = getattr(self, "fgrad_samples", 1)
        b = self.b
        x, dx, inputs = self.features, None, []
        if copies > 1:  # the batch tiled into its copies (the program's batch counts them all)
            with b.scope("forward/copies"):
                x = b.new("Tile", self.blocks[0].layers[0].input, "activation", inputs=[x])
        one_hot = self.labels()
        for block in self.blocks:
            inputs.append(x)  # activity: the update reads the dense layer's input
            dense, scope = block.layers[0], f"forward/block_{block.index}/tangent"
            through = None
            if dx is not None:
                with b.scope(scope):
                    through = b.new("MatMul_1", dense.output, "activation", inputs=[dx, b.given(f"{dense.name}/var0")],
                                    flops=dense_flops(b, dense))
            output, _ = self.forward_block(block, x, self.weights(block))
            with b.scope(scope):
                if activity:  # u on the dense output, (batch, units)
                    tangents = [b.new("stateless_random_normal", dense.output, "activation", inputs=[output])]
                else:
                    tangents = [b.small("stateless_random_normal", _elements(shape), "activation", [output])
                                for shape in dense.variables]
                slopes = [b.new(f"{layer.kind}/slope", layer.output, "activation", inputs=[output])
                          for layer in block.layers[1:]]
                if activity:
                    tangent = tangents[0]
                else:
                    tangent = b.new("MatMul", dense.output, "activation", inputs=[x, tangents[0]],
                                    flops=dense_flops(b, dense))
                if activity and through is not None:
                    tangent = b.new("add", dense.output, "activation", inputs=[through, tangent],
                                    in_place=[through, tangent])
                elif through is not None:
                    tangent = b.new("add", dense.output, "activation", inputs=[tangent, through],
                                    in_place=[tangent, through])
                if len(tangents) > 1 and not activity:
                    tangent = b.new("BiasAdd", dense.output, "activation", inputs=[tangent, tangents[1]],
                                    in_place=[tangent])
                for layer, slope in zip(block.layers[1:], slopes):
                    tangent = b.new(f"{layer.kind}/mul", layer.output, "activation", inputs=[tangent, slope],
                                    in_place=[tangent, slope])
            x, dx = output, tangent
        with b.scope("loss"):
            loss = self.loss_only(x, one_hot)
            per_class = b.new("per_class", self.output_shape, "activation", inputs=[x, one_hot])
            product = b.new("mul", self.output_shape, "activation", inputs=[per_class, dx], in_place=[per_class, dx])
            per_example = b.new("Sum", self.output_shape[:-1], "activation", inputs=[product])
            if activity:  # one derivative per example
                derivative = b.new("truediv", self.output_shape[:-1], "activation", inputs=[per_example, loss],
                                   in_place=[per_example])
            else:
                derivative = b.small("Mean", 1, "activation", [per_example, loss])
            if copies > 1:  # the first copy's logits, for accuracy
                b.small("strided_slice", b.batch_bytes(self.output_shape) // FLOAT // copies, "activation", [x])
        if activity:
            self._activity_updates(derivative, inputs)
        else:
            self._redrawn_updates(derivative)
        return b

    def _activity_updates(self, derivative, inputs):
        """One block at a time: u drawn again, times each example's derivative, x^T (d u) and its sum."""
        b = self.b
        for block, x in zip(self.blocks, inputs):
            dense = block.layers[0]
            with b.scope(f"update/block_{block.index}"):
                draw = b.new("stateless_random_normal", dense.output, "update", inputs=[derivative])
                scaled = b.new("mul", dense.output, "update", inputs=[derivative, draw], in_place=[draw])
                grads = [b.small("MatMul", _elements(dense.kernel), "update", inputs=[x, scaled],
                                 flops=dense_flops(b, dense))]
                if len(dense.variables) > 1:
                    grads.append(b.small("Sum", dense.output[-1], "update", inputs=[scaled]))
            self.apply(grads, f"block_{block.index}")

    def _redrawn_updates(self, scale, samples=1):
        """One block at a time: each variable's draw, times the scalar, applied (SGD in place).
        samples > 1 (MEZO's n-SPSA): the draws of one variable one after the other, each product
        added in place to the sum before it."""
        b = self.b
        for block in self.blocks:
            grads = []
            with b.scope(f"update/block_{block.index}"):
                for layer in block.layers:
                    for part in layer.parts:
                        for shape in part.variables:
                            total = None
                            for _ in range(samples):
                                draw = b.small("stateless_random_normal", _elements(shape), "update", [scale])
                                term = b.op("mul", [draw, scale], [b.tensor("mul", _elements(shape) * 4, "update")],
                                            in_place=[draw])
                                total = term if total is None else b.op(
                                    "add", [total, term], [b.tensor("add", _elements(shape) * 4, "update")],
                                    in_place=[total, term])
                            grads.append(total)
            self.apply(grads, f"block_{block.index}")

    def loss_only(self, logits, one_hot):
        """The loss alone, fetched (the cross-entropy op still writes its backprop output)."""
        b = self.b
        if self.cost_function == "softmax_cross_entropy":
            backprop = b.tensor("xent/backprop", logits.size, "activation")
            per_example = b.tensor("xent/loss", b.batch_bytes(self.output_shape[:-1]), "activation")
            b.op("softmax_cross_entropy_with_logits", [logits, one_hot], [backprop, per_example], in_place=[logits])
        else:
            difference = b.new("per_class", self.output_shape, "activation", inputs=[logits, one_hot])
            per_example = b.new("sum", self.output_shape[:-1], "activation", inputs=[difference])
        loss = b.small("Mean", 1, "activation", [per_example])
        b.fetched.append(loss)
        return loss

    # -- MeZO --------------------------------------------------------------------------------
    def mezo(self):
        b = self.b
        one_hot = self.labels()
        variables = [(part, shape) for block in self.blocks for layer in block.layers
                     for part in layer.parts for shape in part.variables]
        samples = getattr(self, "mezo_samples", 1)
        projected = []
        for sample in range(samples):  # n-SPSA: each perturbation's moves and passes after the last's
            suffix = f"_{sample}" if sample else ""
            losses = []
            for label in ("plus", "minus"):
                self._move(variables, label + suffix, losses[-1:])
                x = self.features
                for block in self.blocks:
                    x, _ = self.forward_block(block, x, self.weights(block), scope=f"forward/{label}{suffix}",
                                              keep_nothing=True)
                with b.scope(f"loss/{label}{suffix}"):
                    losses.append(self.loss_only(x, one_hot))
            self._move(variables, "restore" + suffix, losses[-1:])
            with b.scope("update"):
                projected.append(b.small("projected_gradient" + suffix, 1, "update", losses))
        self._redrawn_updates(projected[0], samples)
        return b

    def _move(self, variables, label, after):
        """theta += scale * z, one variable at a time: the draw, scaled in place, added in place."""
        b = self.b
        with b.scope(f"perturb/{label}"):
            for number, (part, shape) in enumerate(variables):
                n = _elements(shape)
                draw = b.small("stateless_random_normal", n, "update", list(after))
                scaled = b.op("mul", [draw], [b.tensor("mul", n * 4, "update")], in_place=[draw])
                b.op("AssignAddVariableOp", [scaled], [])
                after = []
