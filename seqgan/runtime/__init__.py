"""Runtime plumbing below the recipe: processes (DDP), checkpoints, compilation, precision, optimisers, the machine."""
