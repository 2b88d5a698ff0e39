"""The memory model and the checkpoint plans: predictions from shapes, no TensorFlow (ARCHITECTURE.md, "planning/")."""
