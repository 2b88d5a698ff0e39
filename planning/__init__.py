"""Before a run: each algorithm's memory predicted from shapes (model), and BPCKPT plans that meet
a memory budget (checkpoint_plan, checkpoint_search, budget_plan). Imports no TensorFlow."""
