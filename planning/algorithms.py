"""Each algorithm's training step as a program, in the order the algorithm imposes.

The programs follow training/algorithms/*.py op for op at the level of layers: which forward
passes run, which tensors the backward passes read (so how long activations live), when each
block's update is applied (so how long weight gradients live), and what is recomputed.
"""
from planning.auxiliary import head_shape
from planning.atlas_rules import AtlasSteps
from planning.builder import ProgramBuilder
from planning.defined import not_defined
from planning.checkpoint_plan import plan_for
from planning.layers import Weights, backward, dense_flops, forward
from planning.measured import BLOCK_INPUT, OUTPUT_GRADIENT, replay
from planning.program import Op


class StepProgram(AtlasSteps):
    """Builds one algorithm's program for blocks (planning.shapes.BlockShape) and a batch size."""

    def __init__(self, blocks, classes, batch_size, cost_function="softmax_cross_entropy",
                 feedback="stored", segment_size=None, threads=1, plan=None, kernels=None,
                 fgrad_perturbation="weights", fgrad_samples=1, mezo_samples=1, update_every=1):
        """plan: BPCKPT's planning.checkpoint_plan.Segment (default: segment_size's uniform plan).
        update_every: FA's and DFA's blocks whose updates go together (the config key).
        kernels: block -> planning.measured.BlockKernels measured at this batch size, whose ops are
        replayed for each block; without, the layer rules (planning/layers.py) write them."""
        self.kernels = (lambda block: kernels(block, batch_size)) if kernels is not None else None
        self.blocks, self.classes = blocks, classes
        self.cost_function, self.regenerate = cost_function, feedback == "regenerate"
        self.fgrad_perturbation = fgrad_perturbation  # FGRAD's tangent (planning/atlas_rules.py)
        # FGRAD's copies of the batch (batch_size counts them all) and MEZO's perturbations per step.
        self.fgrad_samples, self.mezo_samples = fgrad_samples, mezo_samples
        self.plan = plan or plan_for(len(blocks), segment_size=segment_size)
        self.update_every = update_every
        if (self.plan.start, self.plan.stop) != (0, len(blocks)):
            raise ValueError(f"checkpoint plan {self.plan} covers blocks [{self.plan.start}, {self.plan.stop}), "
                             f"the network has {len(blocks)}")
        self.b = ProgramBuilder(batch_size, threads)
        self.b.measured = kernels is not None
        self.features = self.b.given("input/features")  # tf.data's batch: outside the step

    # -- pieces shared by the algorithms ---------------------------------------------------------
    def weights(self, block, feedback_kernels=None):
        return [Weights(self.b, layer, feedback_kernels) for layer in block.layers]

    def forward_block(self, block, x, weights, scope="forward", keep_nothing=False):
        """keep_nothing: a pass whose activations no gradient reads (MEZO's), replayed from the
        block's forward measured alone, whose kernels may write into their inputs' buffers."""
        if self.kernels is not None:
            measured = self.kernels(block)
            env = {BLOCK_INPUT: x}
            ops, output = ((measured.inference, measured.inference_output) if keep_nothing and measured.inference
                           else (measured.forward, measured.output))
            with self.b.scope(f"{scope}/block_{block.index}"):
                replay(self.b, ops, env, "activation")
            return env[output], env
        saved = []
        with self.b.scope(f"{scope}/block_{block.index}"):
            for layer, layer_weights in zip(block.layers, weights):
                x, layer_saved = forward(self.b, layer, x, layer_weights)
                saved.append(layer_saved)
        return x, saved

    def backward_block(self, block, dy, saved, need_dx, scope="backward"):
        if self.kernels is not None:
            measured = self.kernels(block).backward(need_dx)
            env = dict(saved, **{OUTPUT_GRADIENT: dy})
            with self.b.scope(f"{scope}/block_{block.index}"):
                replay(self.b, measured.ops, env, "gradient")
            dx = env.get(measured.input_gradient) if need_dx else None
            return dx, [env[g] for g in measured.weight_gradients if g in env]
        grads = []
        with self.b.scope(f"{scope}/block_{block.index}"):
            for position in range(len(block.layers) - 1, -1, -1):
                layer = block.layers[position]
                dy, layer_grads = backward(self.b, layer, dy, saved[position], need_dx or position > 0)
                grads = layer_grads + grads
        return dy, grads

    def first_pass(self, weights):
        """The forward pass over every block, keeping what each backward reads: (logits, outputs, saved)."""
        x, outputs, saved = self.features, [], []
        for block, block_weights in zip(self.blocks, weights):
            x, block_saved = self.forward_block(block, x, block_weights)
            outputs.append(x)
            saved.append(block_saved)
        return x, outputs, saved

    @property
    def output_shape(self):
        """The logits per example: (classes,), or (time, classes) for a transformer's per-position output."""
        return tuple(self.blocks[-1].output)

    def labels(self):
        return self.b.new("input/one_hot", self.output_shape, "input")

    def loss_and_error(self, logits, one_hot, error_scope="backward"):
        """The loss, and e = d loss / d logits (the cross-entropy gradient takes the logits' buffer);
        PEPITA takes e under loss/ (no backward pass)."""
        b = self.b
        with b.scope("loss"):
            if self.cost_function == "softmax_cross_entropy":
                backprop = b.tensor("xent/backprop", logits.size, "gradient")
                per_example = b.tensor("xent/loss", b.batch_bytes(self.output_shape[:-1]), "activation")
                b.op("softmax_cross_entropy_with_logits", [logits, one_hot], [backprop, per_example],
                     in_place=[logits])
            else:
                difference = b.new("per_class", self.output_shape, "activation", inputs=[logits, one_hot])
                backprop = b.new("per_class_grad", self.output_shape, "gradient", inputs=[difference, logits])
                per_example = b.new("sum", self.output_shape[:-1], "activation", inputs=[difference])
            loss = b.small("Mean", 1, "activation", [per_example])
            b.fetched.append(loss)  # the trainer fetches the loss: TensorFlow holds it to the step's end
        with b.scope(error_scope):
            scale = b.new("Mean_grad", (1,), "gradient", inputs=[loss])
            error = b.new("mul", self.output_shape, "gradient", inputs=[backprop, scale], in_place=[backprop])
        return loss, error

    def projection(self, signal, block):
        """The signal (batch, classes) through the block's fixed matrix, shaped as its output."""
        b = self.b
        with b.scope(f"feedback/block_{block.index}"):
            if self.regenerate:
                size = _elements(block.output[len(self.output_shape) - 1:])  # per position on a transformer
                matrix = b.small("stateless_random_uniform", self.classes * size, "gradient")
            else:
                matrix = b.given(f"feedback/B_{block.index}")
            projected = b.new("MatMul", block.output, "gradient", inputs=[signal, matrix],
                              flops=2 * b.batch * self.classes * _elements(block.output))
            return b.alias("Reshape", projected)

    def apply(self, grads, label):
        """The optimizer's update once all `grads` exist: in place on the variables (SGD, momentum
        and Adam allocate nothing)."""
        self.b.op(f"update/{label}", grads, [])

    def apply_when_ready(self, grads, label):
        """Each variable's update as soon as its gradient exists (DFA, DFAMEM, DRTP: apply_gradients
        makes one op per variable, and nothing makes them wait for each other). The step runs its
        ops as they become ready, so the update runs right after the gradient's op and frees it
        there: a block's first filter gradient is gone before its last one is computed."""
        made_at = {tensor.name: index for index, op in enumerate(self.b.ops) for tensor in op.outputs}
        updates = [(made_at.get(grad.name, len(self.b.ops)), number, grad) for number, grad in enumerate(grads)]
        for position, number, grad in sorted(updates, key=lambda update: update[0], reverse=True):
            self.b.ops.insert(position + 1, Op(self.b.scope_name(f"update/{label}/{number}"), (grad,)))

    # -- the algorithms --------------------------------------------------------------------------------
    def bp(self, apply_each_block=False, feedback_kernels=None, every=1):
        """BP (all updates after the last gradient) or FA (each block's update when ready; with
        `every`, those of `every` consecutive blocks once the last of them is done)."""
        weights = [self.weights(block, feedback_kernels) for block in self.blocks]
        one_hot = self.labels()
        logits, _, saved = self.first_pass(weights)
        _, gradient = self.loss_and_error(logits, one_hot)
        held, group = [], []
        for block in reversed(self.blocks):
            gradient, grads = self.backward_block(block, gradient, saved[block.index], need_dx=block.index > 0)
            if apply_each_block:
                group.append(grads)
                if len(group) == every or block is self.blocks[0]:
                    self.apply([g for grads in group for g in grads],
                               block.name if hasattr(block, "name") else f"block_{block.index}")
                    group = []
            else:
                held += grads
        if held:
            self.apply(held, "all")
        return self.b

    def fa(self):
        b = self.b
        kernels = {}
        for block in self.blocks:
            for layer in block.layers:
                for part in layer.parts:
                    if part.kind in ("FullyConnected", "ConvolutionalLayer"):
                        kernels[part.name] = self._feedback_kernel(part)
        return self.bp(apply_each_block=True, feedback_kernels=kernels, every=self.update_every)

    def _feedback_kernel(self, layer):
        if not self.regenerate:
            matrix = self.b.given(f"feedback/{layer.name}")
            return lambda: matrix
        return lambda: self.b.small("feedback/stateless_random_uniform", _elements(layer.kernel), "gradient")

    def dfa(self):
        """training/algorithms/dfa.py's order: the output block, then the hidden blocks last
        first, each projected, differentiated and updated after the previous one's update."""
        weights = [self.weights(block) for block in self.blocks]
        one_hot = self.labels()
        logits, _, saved = self.first_pass(weights)
        _, error = self.loss_and_error(logits, one_hot)
        group = []
        for block in reversed(self.blocks):
            delta = error if block is self.blocks[-1] else self.projection(error, block)
            _, grads = self.backward_block(block, delta, saved[block.index], need_dx=False)
            if self.update_every == 1:
                self.apply_when_ready(grads, f"block_{block.index}")
                continue
            group.append(grads)  # update_every blocks: their updates once all their gradients exist
            if len(group) == self.update_every or block is self.blocks[0]:
                self.apply([g for grads in group for g in grads], f"block_{block.index}")
                group = []
        return self.b

    def dfamem(self):
        weights = [self.weights(block) for block in self.blocks]
        one_hot = self.labels()
        x = self.features
        for block, block_weights in zip(self.blocks, weights):
            x, _ = self.forward_block(block, x, block_weights)  # nothing read later: freed as it goes
        _, error = self.loss_and_error(x, one_hot)
        x = self.features
        for block, block_weights in zip(self.blocks, weights):
            scope = f"recompute/block_{block.index}"
            with self.b.scope(scope):
                x = self.b.alias("block_input", x)
            delta = error if block is self.blocks[-1] else self.projection(error, block)
            output, saved = self.forward_block(block, x, block_weights, scope=scope + "/forward")
            _, grads = self.backward_block(block, delta, saved, need_dx=False, scope=scope + "/backward")
            self.apply_when_ready(grads, f"block_{block.index}")
            x = output
        return self.b

    def drtp(self):
        """training/algorithms/drtp.py's order (LAG = 0): one block at a time, its forward pass
        and projection, then its backward and update, before the next block's forward pass."""
        weights = [self.weights(block) for block in self.blocks]
        one_hot = self.labels()
        with self.b.scope("input"):
            surrogate = self.b.new("Neg", self.output_shape, "input", inputs=[one_hot])
        x, last = self.features, self.blocks[-1]
        for block, block_weights in zip(self.blocks, weights):
            output, saved = self.forward_block(block, x, block_weights)
            if block is last:
                _, delta = self.loss_and_error(output, one_hot)
            else:
                delta = self.projection(surrogate, block)
            _, grads = self.backward_block(block, delta, saved, need_dx=False)
            self.apply_when_ready(grads, f"block_{block.index}")
            x = output
        return self.b

    def pepita(self):
        """training/algorithms/pepita.py's order: the standard pass keeping each block's output, the
        error and the modulated input, then block by block its modulated pass and its update (the
        outer product of the modulated input with the scaled difference), each block after the
        previous one's update."""
        self._check_defined("PEPITA")
        b = self.b
        weights = [self.weights(block) for block in self.blocks]
        one_hot = self.labels()
        x, outputs = self.features, []
        for block, block_weights in zip(self.blocks, weights):
            x, _ = self.forward_block(block, x, block_weights)  # only the output is read again
            outputs.append(x)
        _, error = self.loss_and_error(x, one_hot, error_scope="loss")
        with b.scope("loss"):
            error = b.new("mul", self.output_shape, "activation", inputs=[error], in_place=[error])
        last = self.blocks[-1]
        with b.scope(f"update/block_{last.index}"):
            # The last block's difference is the error: its scaling and bias update are ready, and
            # run, before the modulated pass starts (traced so).
            last_scaled = b.new("truediv", last.output, "update", inputs=[error])
            last_grads = self._bias_update(last, last_scaled)
        self.apply_when_ready(last_grads, f"block_{last.index}/bias")
        source = self.blocks[0].input
        with b.scope("modulated/input"):
            if self.regenerate:
                matrix = b.small("stateless_random_uniform", self.classes * _elements(source), "activation")
            else:
                matrix = b.given("feedback/F")
            projected = b.new("MatMul", source, "activation", inputs=[error, matrix],
                              flops=2 * b.batch * self.classes * _elements(source))
            # x - F e takes over the batch's buffer (the iterator's, never counted), which nothing
            # reads any more: traced, no buffer of its own.
            x = b.tensor("sub", projected.size, "activation")
            b.op("sub", [self.features, projected], [x], alias={x: self.features})
        for block, block_weights, output in zip(self.blocks, weights, outputs):
            modulated, _ = self.forward_block(block, x, block_weights, scope="modulated")
            with b.scope(f"update/block_{block.index}"):
                if block is last:
                    scaled, grads = last_scaled, []
                else:
                    difference = b.new("sub", block.output, "update", inputs=[output, modulated], in_place=[output])
                    scaled = b.new("truediv", block.output, "update", inputs=[difference], in_place=[difference])
                    grads = self._bias_update(block, scaled)
                grads = [b.small("MatMul", _elements(block.layers[0].kernel), "update", inputs=[x, scaled],
                                 flops=dense_flops(b, block.layers[0]))] + grads
            self.apply_when_ready(grads, f"block_{block.index}")
            x = modulated
        return b

    def _check_defined(self, algorithm):
        """ValueError (its reason) for a network the rule is not defined on (planning/defined.py)."""
        reason = not_defined(algorithm, [(f"block_{block.index}", [layer.kind for layer in block.layers])
                                         for block in self.blocks])
        if reason:
            raise ValueError(reason)

    def _bias_update(self, block, scaled):
        """PEPITA's bias update (the scaled difference summed over the batch), if the layer has a bias."""
        dense = block.layers[0]
        return [self.b.small("Sum", dense.output[-1], "update", inputs=[scaled])] if len(dense.variables) > 1 else []

    def local(self):
        """training/algorithms/local.py's order: block by block its forward pass, its auxiliary head
        (planning/auxiliary.py), its loss, the local backward through head and block and the update;
        the last block learns from the network's loss. The next block waits for the update."""
        self._check_defined("LOCAL")
        weights = [self.weights(block) for block in self.blocks]
        one_hot = self.labels()
        per_position = len(self.output_shape) > 1
        x, last = self.features, self.blocks[-1]
        for block, block_weights in zip(self.blocks, weights):
            output, saved = self.forward_block(block, x, block_weights)
            if block is last:
                _, delta = self.loss_and_error(output, one_hot)
                head_grads = []
            else:
                head = head_shape(block, self.classes, per_position)
                logits, head_saved = self.forward_block(head, output, self.weights(head), scope="auxiliary")
                _, error = self.loss_and_error(logits, one_hot)
                delta, head_grads = self.backward_block(head, error, head_saved, need_dx=True)
            _, grads = self.backward_block(block, delta, saved, need_dx=False)
            self.apply_when_ready(head_grads + grads, f"block_{block.index}")
            x = output
        return self.b

    def bpckpt(self):
        """training/algorithms/bpckpt.py's order: the first pass keeps the root's checkpoints, then
        each segment of the plan is differentiated as `differentiate` describes."""
        weights = [self.weights(block) for block in self.blocks]
        one_hot = self.labels()
        logits, outputs, saved = self.first_pass(weights)
        _, gradient = self.loss_and_error(logits, one_hot)
        self.differentiate(self.plan, weights, self.features, outputs, saved, gradient, need_dx=False)
        return self.b

    def differentiate(self, segment, weights, segment_input, outputs, saved, gradient, need_dx, scope=""):
        """Backpropagate through `segment`, given a pass through it (outputs and saved tensors by
        block index): a leaf block by block; a split segment its last child on that pass, then
        each earlier child, last first, recomputed from its checkpoint under
        <scope>recompute/segment_i/ and differentiated in turn. Returns the gradient at segment_input."""
        if segment.is_leaf:
            for block in reversed(self.blocks[segment.start:segment.stop]):
                gradient, grads = self.backward_block(block, gradient, saved[block.index],
                                                      need_dx=block.index > segment.start or need_dx,
                                                      scope=scope + "backward")
                self.apply(grads, f"block_{block.index}")
            return gradient
        children = segment.children
        checkpoints = [segment_input] + [outputs[child.start - 1] for child in children[1:]]
        gradient = self.differentiate(children[-1], weights, checkpoints[-1], outputs, saved, gradient, True, scope)
        for index in range(len(children) - 2, -1, -1):
            child, inner = children[index], f"{scope}recompute/segment_{index}"
            with self.b.scope(inner):
                x = self.b.alias("segment_input", checkpoints[index])
            child_input, child_outputs, child_saved = x, {}, {}
            for block in self.blocks[child.start:child.stop]:
                x, child_saved[block.index] = self.forward_block(block, x, weights[block.index],
                                                                 scope=inner + "/forward")
                child_outputs[block.index] = x
            gradient = self.differentiate(child, weights, child_input, child_outputs, child_saved, gradient,
                                          index > 0 or need_dx, inner + "/")
        return gradient


def _elements(shape):
    total = 1
    for dim in shape:
        total *= int(dim)
    return total
