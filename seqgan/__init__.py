"""SeqGAN (Yu, Zhang, Wang and Yu, AAAI 2017) on PyTorch: the paper's pieces, one module each.

oracle, generator, discriminator, rollout, metrics, data; corpus and midi read the real data sets;
``train`` is the recipe (Algorithm 1), ``config`` its typed settings, ``cli`` the ``seqgan`` command.
"""

__version__ = "0.1.0"
