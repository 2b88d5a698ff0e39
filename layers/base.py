"""Layer and WeightLayer: the seam every concrete layer plugs into.

A layer's constructor only stores and checks settings. Variables are created on the first
`forward(x, training)` from the input's static shape (Sonnet's style), so a sequence is
declared without knowing its input. Later calls reuse the same variables: the training step,
the evaluation graph and DFAMEM's recomputation all call `forward` on the same objects.
"""
import contextlib
import inspect

import tensorflow as tf

from definitions.errors import ConfigError
from layers.checks import check_bool, check_name, format_shape


class Layer:
    """A layer without weights of its own: activation, pooling, batch norm."""

    #: True for layers that start a new block (dense, conv, residual).
    starts_block = False
    #: True for a weight layer that joins the block before it instead (ResidualLayer(joins_block=True)).
    joins_block = False

    def __init__(self, name=None):
        self.name = check_name(name, type(self).__name__)
        self.built = False
        self.input_shape = None
        self.output_shape = None
        self._variables = []
        self._non_trainable = []
        self._pending_updates = []

    # -- lifecycle ---------------------------------------------------------------------
    def forward(self, x, training):
        """Compute the layer on x; `training` is a Python bool (batch statistics vs averages)."""
        if not self.built:
            self.input_shape = tuple(x.shape.as_list())
            with self.variable_scope():
                self.build(self.input_shape)
            self.built = True
        y = self.call(x, training)
        if self.output_shape is None:
            self.output_shape = tuple(y.shape.as_list())
        return y

    def build(self, input_shape):
        """Create variables from the input shape (batch dimension first, maybe None)."""

    def call(self, x, training):
        raise NotImplementedError

    # -- variables and state -----------------------------------------------------------
    @contextlib.contextmanager
    def variable_scope(self):
        """Create variables at `model/<layer name>/`, outside any control dependency.

        Variables must not depend on where the first forward happens to be called (inside
        `forward/block_3/` or under DFAMEM's control dependencies), so lift to the graph's top
        level and reset the name scope.
        """
        with tf.init_scope():
            if tf.executing_eagerly():
                yield
                return
            graph = tf.compat.v1.get_default_graph()
            with graph.name_scope(None), graph.name_scope(f"model/{self.name or type(self).__name__}/"):
                yield

    #: {weight name: array} that replace the initial values: a converted Keras model's own
    #: weights (training/keras_convert.py). None: the layer's initializers.
    pretrained = None

    def add_weight(self, name, initial_value, trainable=True):
        if self.pretrained is not None and name in self.pretrained:
            initial_value = _pretrained_value(self, name, initial_value)
        variable = tf.Variable(initial_value, name=name, trainable=trainable)
        (self._variables if trainable else self._non_trainable).append(variable)
        return variable

    @property
    def variables(self):
        """Trainable variables, in creation order."""
        return list(self._variables)

    @property
    def non_trainable_variables(self):
        return list(self._non_trainable)

    def pop_updates(self):
        """State-update ops produced by the last training forward(s), e.g. moving averages.

        Returned once and cleared, so an algorithm that runs the forward pass twice (DFAMEM)
        decides which pass updates the state.
        """
        updates, self._pending_updates = self._pending_updates, []
        return updates

    # -- description ---------------------------------------------------------------------
    def get_config(self):
        """Constructor arguments as plain values; `type(self)(**config)` rebuilds the layer."""
        return {"name": self.name}

    def __str__(self):
        """Required settings positionally, others only where they differ from the default."""
        parameters = inspect.signature(type(self).__init__).parameters
        args = []
        for key, value in self.get_config().items():
            default = parameters[key].default if key in parameters else None
            if key == "name":
                continue
            if default is inspect.Parameter.empty:
                args.append(_format_value(value))
            elif _normalised(value) != _normalised(default):
                args.append(f"{key}={_format_value(value)}")
        return f"{type(self).__name__}({', '.join(args)})"

    __repr__ = __str__


class WeightLayer(Layer):
    """A layer with a kernel (dense or conv): the first layer of a block.

    `apply_kernel(x, kernel)` is the linear map alone. Keeping it separate lets feedback
    alignment swap the kernel used in the backward pass for a fixed random matrix of the same
    shape without special cases per layer type.
    """

    starts_block = True

    def __init__(self, add_biases, name=None):
        super().__init__(name=name)
        self.add_biases = check_bool("add_biases", add_biases, type(self).__name__)
        self.kernel = None
        self.bias = None
        #: None: the error reaches the input through the kernel itself (backpropagation).
        #: A zero-argument callable returning a tensor of the kernel's shape: the error reaches
        #: the input through that tensor instead (feedback alignment). Called while the
        #: gradient is built, so a regenerated matrix lives only in the backward pass.
        self.backward_kernel = None

    def apply_kernel(self, x, kernel):
        raise NotImplementedError

    def prepare_input(self, x):
        """Reshape the input before the kernel (flattening); identity by default."""
        return x

    def call(self, x, training):
        x = self.prepare_input(x)
        if self.backward_kernel is None:
            y = self.apply_kernel(x, self.kernel)
        else:
            y = _with_backward_kernel(self.apply_kernel, self.backward_kernel)(x, tf.convert_to_tensor(self.kernel))
        if self.bias is not None:
            y = tf.nn.bias_add(y, self.bias)
        return y


def _with_backward_kernel(apply_kernel, backward_kernel):
    """apply_kernel(x, kernel) whose gradient to x uses backward_kernel() in place of kernel.

    Both gradients are TensorFlow's own gradients of the linear map, so the same code serves
    dense and convolutional layers: d/dx of apply_kernel(x, B) and d/dkernel of apply_kernel(x, W).
    """
    @tf.custom_gradient
    def linear(x, kernel):
        def gradient(dy):
            # Built once the error reaches this layer: a feedback kernel made from constants or
            # weights alone (a regenerated draw, USF's sign(W)) is otherwise ready, so run, at the
            # step's start, and lives through the whole forward pass.
            with tf.control_dependencies([tf.identity(dy, name="ready")]):
                feedback = backward_kernel()
            dx = tf.gradients(apply_kernel(x, feedback), x, grad_ys=dy)[0]
            # The kernel's gradient after the input's, as training/gradients.py orders a layer's
            # own two gradients: left to the executor, their order follows a hash of the names.
            with tf.control_dependencies([dx]):
                dkernel = tf.gradients(apply_kernel(x, kernel), kernel, grad_ys=dy)[0]
            return dx, dkernel
        return apply_kernel(x, kernel), gradient
    return linear


def _pretrained_value(layer, name, initial_value):
    """The pretrained array for `name`, which must have the shape the layer builds for its input."""
    value = layer.pretrained[name]
    expected = tuple(tf.convert_to_tensor(initial_value).shape.as_list())
    if tuple(value.shape) != expected:
        raise ConfigError(f"{layer}: its pretrained {name} has shape {tuple(value.shape)}, but for an input of "
                          f"shape {format_shape(layer.input_shape)} it needs {expected}")
    return value


def layer_to_config(layer):
    """A plain dict that `layers.registry.layer_from_config` turns back into the layer."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _format_value(value):
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _normalised(value):
    # (1, 1) and [1, 1] are the same setting; 0.99 and 0.99000 too.
    if isinstance(value, (list, tuple)):
        return [_normalised(item) for item in value]
    if isinstance(value, str):
        return value.upper()
    return value
