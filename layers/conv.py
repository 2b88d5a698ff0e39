"""ConvolutionalLayer: a 2-D convolution over NHWC input (no bias by default, as the original)."""
import tensorflow as tf

from definitions.errors import ConfigError
from layers.base import WeightLayer
from layers.checks import check_fits, check_padding, check_pair, check_positive_int, format_shape
from layers.initializers import check_initializer, initial_kernel
from layers.registry import register


def spatial_strides(strides, layer):
    """Accept (h, w), an int, or the TF1 style [1, h, w, 1]."""
    if isinstance(strides, (list, tuple)) and len(strides) == 4:
        if strides[0] != 1 or strides[3] != 1:
            raise ConfigError(f"{layer}: a 4-element stride must look like [1, h, w, 1], got {strides!r}")
        strides = strides[1:3]
    return check_pair("strides", strides, layer)


@register
class ConvolutionalLayer(WeightLayer):
    def __init__(self, filter_dim, num_of_filters, strides=(1, 1), padding="SAME", add_biases=False,
                 weight_init="glorot_uniform", name=None):
        super().__init__(add_biases=add_biases, name=name)
        self.filter_dim = check_pair("filter_dim", filter_dim, "ConvolutionalLayer")
        self.num_of_filters = check_positive_int("num_of_filters", num_of_filters, "ConvolutionalLayer")
        self.strides = spatial_strides(strides, "ConvolutionalLayer")
        self.padding = check_padding(padding, "ConvolutionalLayer")
        self.weight_init = check_initializer(weight_init, "ConvolutionalLayer")

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ConfigError(f"{self}: expects an image input (batch, height, width, channels) "
                              f"but got a rank-{len(input_shape)} input of shape {format_shape(input_shape)}")
        channels = input_shape[-1]
        if not channels:
            raise ConfigError(f"{self}: the input's channels must be known and positive, got shape "
                              f"{format_shape(input_shape)}")
        check_fits(self.filter_dim, input_shape, self.padding, str(self))
        height, width = self.filter_dim
        shape = [height, width, channels, self.num_of_filters]
        self.kernel = self.add_weight("kernel", initial_kernel(
            shape, height * width * channels, height * width * self.num_of_filters, self.weight_init))
        if self.add_biases:
            self.bias = self.add_weight("bias", tf.zeros([self.num_of_filters]))

    def apply_kernel(self, x, kernel):
        return tf.nn.conv2d(x, kernel, strides=[1, *self.strides, 1], padding=self.padding)

    def get_config(self):
        return {"filter_dim": list(self.filter_dim), "num_of_filters": self.num_of_filters,
                "strides": list(self.strides), "padding": self.padding, "add_biases": self.add_biases,
                "weight_init": self.weight_init, "name": self.name}
