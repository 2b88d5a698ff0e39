"""Network dicts by name, as in the original: each one extends another.

Every key is validated by definitions/config.py before a run starts; see its fields for the
meaning of each key.
"""

default_network = {
    "type": "BP",
    "dataset_name": "digits",
    # Tanh, not ReLU: DRTP's target projection grows unbounded activations without limit.
    "sequence": "fcTanh",
    "cost_function": "softmax_cross_entropy",
    "optimizer": "momentum",
    "learning_rate": 0.01,
    "momentum": 0.9,

    "gather_stats": False,
    "save_graph": False,
    "memory_only": False,

    "restore_model": False,
    "save_model": False,
    "restore_model_path": None,
    "save_model_path": None,

    "minimum_accuracy": [(1, 1)],
    "batch_size": 10,
    "epochs": 10,
    "eval_period": 1000,
    "stat_period": 100,
    "seed": 1,
}

fcSigmoid = dict(default_network)
fcSigmoid.update({"sequence": "fcSigmoid", "learning_rate": 0.05})

fcReLu = dict(default_network)
fcReLu.update({"sequence": "fcReLu"})

liao_network = dict(default_network)
liao_network.update({
    "dataset_name": "cifar10",
    "sequence": "liao_cifar_bn",
    "minimum_accuracy": [(10, 30)],
    "batch_size": 100,
    "epochs": 50,
    "eval_period": 1000,
    "stat_period": 100,
    "seed": 1,
})

vgg_16 = dict(liao_network)
vgg_16.update({"sequence": "vgg_16", "learning_rate": 0.001, "batch_size": 50, "epochs": 100,
               "minimum_accuracy": [(10, 20)]})

vgg_16_DFA = dict(vgg_16)
vgg_16_DFA.update({"type": "DFA"})

exp_mnist_fc = dict(default_network)
exp_mnist_fc.update({"dataset_name": "mnist", "sequence": "experiment_mnist_fc", "batch_size": 50,
                     "epochs": 20, "minimum_accuracy": [(2, 50)]})

exp_mnist_conv = dict(exp_mnist_fc)
exp_mnist_conv.update({"sequence": "experiment_mnist_conv"})

exp_cifar_vgg_bp = dict(vgg_16)
exp_cifar_vgg_bp.update({"type": "BP", "epochs": 50})

exp_cifar_vgg_fa = dict(exp_cifar_vgg_bp)
exp_cifar_vgg_fa.update({"type": "FA"})

exp_cifar_vgg_dfa = dict(exp_cifar_vgg_bp)
exp_cifar_vgg_dfa.update({"type": "DFA"})

exp_cifar_vgg_memdfa = dict(exp_cifar_vgg_bp)
exp_cifar_vgg_memdfa.update({"type": "DFAMEM"})

exp_cifar_liao_bp = dict(liao_network)
exp_cifar_liao_bp.update({"type": "BP"})

exp_cifar_liao_fa = dict(exp_cifar_liao_bp)
exp_cifar_liao_fa.update({"type": "FA"})

exp_cifar_liao_dfa = dict(exp_cifar_liao_bp)
exp_cifar_liao_dfa.update({"type": "DFA"})

exp_cifar_liao_memdfa = dict(exp_cifar_liao_bp)
exp_cifar_liao_memdfa.update({"type": "DFAMEM"})

# Transformers on token datasets: the loss is per token (nats), accuracy is next-token accuracy.
transformer_tiny = dict(default_network)
transformer_tiny.update({"dataset_name": "synthetic_tokens", "sequence": "transformer_tiny", "optimizer": "adam",
                         "learning_rate": 0.001, "batch_size": 16, "epochs": 4, "context_length": 64,
                         "synthetic_classes": 16, "synthetic_size": 1024, "minimum_accuracy": []})

# nanoGPT's CPU "baby GPT" run: 4 blocks, 4 heads, dim 128, context 64, batch 12, Adam 1e-3.
transformer_small = dict(transformer_tiny)
transformer_small.update({"dataset_name": "shakespeare", "sequence": "transformer_small", "batch_size": 12,
                          "epochs": 1, "eval_period": 200})

# The same two in Launay et al.'s layout for DFA (post-norm, one block per transformer layer).
transformer_tiny_launay = dict(transformer_tiny, sequence="transformer_tiny_launay")
transformer_small_launay = dict(transformer_small, sequence="transformer_small_launay")

# Issue 23's rules on digits, at the learning rates a small sweep chose (README, "Training algorithms").
pepita_network = dict(default_network)
pepita_network.update({"type": "PEPITA", "learning_rate": 0.05})

local_network = dict(default_network)
local_network.update({"type": "LOCAL"})
# Forward-only estimates of the gradient (issue 23): their variance grows with the number of
# weights, so plain SGD with a small step. Digits, 10 epochs, seed 7: lr 5e-4 reached 67.8% with
# FGRAD and MEZO alike (the same draws of v and z, and eps small: nearly the same steps); 3e-4
# 55%; 1e-3 45% (53% after 5 epochs, then unstable); Adam 1e-4 18%. The atlas sweeps the rate.
fgrad_network = dict(default_network)
fgrad_network.update({"type": "FGRAD", "optimizer": "sgd", "learning_rate": 0.0005})

mezo_network = dict(fgrad_network)
mezo_network.update({"type": "MEZO"})
