"""Which networks a rule is defined on: one reason per refusal, shared by the run (training's
algorithms raise it as a ConfigError) and `experiment plan` (which leaves such a type out).

Read from layer kinds (class names) per block, so planning's shapes and training's built blocks
ask the same question without TensorFlow here.
"""

#: PEPITA's h_l = f(W_l h_{l-1}) takes an element-wise f (Dellaferrera & Kreiman 2022).
PEPITA_ACTIVATIONS = ("Sigmoid", "Tanh", "ReLu", "LeakyReLu", "GELU")


def not_defined(algorithm, blocks):
    """Why `algorithm` is not defined on `blocks` ([(block name, [layer description per layer])],
    the first layer's kind first in each description), or None."""
    if algorithm == "LOCAL" and len(blocks) < 2:
        return ("LOCAL trains each block on its own auxiliary loss and needs at least two blocks "
                f"(a weight layer starts a block); this sequence has {len(blocks)}: use BP")
    if algorithm == "PEPITA":
        for name, layers in blocks:
            kinds = [_kind(layer) for layer in layers]
            odd = [layer for layer, kind in zip(layers[1:], kinds[1:]) if kind not in PEPITA_ACTIVATIONS]
            if kinds[0] != "FullyConnected" or odd:
                culprit = layers[0] if kinds[0] != "FullyConnected" else odd[0]
                return (f"PEPITA is defined for dense layers each followed by element-wise activations "
                        f"(Dellaferrera & Kreiman 2022), but {name} has {culprit}: use a sequence of "
                        f"FullyConnected and {'/'.join(PEPITA_ACTIVATIONS)} layers")
    return None


def _kind(description):
    """'ConvolutionalLayer([5, 5], 20)' -> 'ConvolutionalLayer'."""
    return str(description).split("(", 1)[0]
