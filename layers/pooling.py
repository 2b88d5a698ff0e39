"""MaxPool and AveragePool over NHWC input; AveragePool(kernel_size=None) is global pooling."""
import tensorflow as tf

from definitions.errors import ConfigError
from layers.base import Layer
from layers.checks import check_fits, check_padding, check_pair, format_shape
from layers.conv import spatial_strides
from layers.registry import register


class _Pool(Layer):
    def __init__(self, kernel_size, strides, padding, name=None, allow_global=False):
        super().__init__(name=name)
        kind = type(self).__name__
        self.kernel_size = check_pair("kernel_size", kernel_size, kind, allow_none=allow_global)
        if self.kernel_size is None and strides is not None:
            # Global pooling has no window to move: strides given here would be silently ignored.
            raise ConfigError(f"{kind}: global pooling (kernel_size=None) has no strides, got strides={strides!r}")
        self.strides = None if self.kernel_size is None else spatial_strides(
            self.kernel_size if strides is None else strides, kind)
        self.padding = check_padding(padding, kind)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ConfigError(f"{self}: expects an image input (batch, height, width, channels) "
                              f"but got shape {format_shape(input_shape)}")
        if self.kernel_size is not None:
            check_fits(self.kernel_size, input_shape, self.padding, str(self))

    def get_config(self):
        return {"kernel_size": None if self.kernel_size is None else list(self.kernel_size),
                "strides": None if self.strides is None else list(self.strides),
                "padding": self.padding, "name": self.name}


@register
class MaxPool(_Pool):
    def __init__(self, kernel_size=(2, 2), strides=None, padding="SAME", name=None):
        super().__init__(kernel_size, strides, padding, name=name)

    def call(self, x, training):
        return tf.nn.max_pool2d(x, self.kernel_size, self.strides, self.padding)


@register
class AveragePool(_Pool):
    def __init__(self, kernel_size=None, strides=None, padding="SAME", name=None):
        super().__init__(kernel_size, strides, padding, name=name, allow_global=True)

    def call(self, x, training):
        if self.kernel_size is None:
            # Global pooling: one value per channel, ready for a dense layer.
            return tf.reduce_mean(x, axis=[1, 2])
        return tf.nn.avg_pool2d(x, self.kernel_size, self.strides, self.padding)
