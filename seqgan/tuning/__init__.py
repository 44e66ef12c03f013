"""Hyper-parameter tuning with Optuna: a study of seqgan train runs (tune) over a YAML search space (search_space)."""
