"""``python -m seqgan ...``, and the entry point for several processes:
``torchrun --standalone --nproc-per-node P -m seqgan train CONFIG --run-dir DIR``.

``record`` (torch.distributed.elastic) writes an uncaught exception of a rank where torchrun reports
it as the run's root cause (https://pytorch.org/docs/stable/elastic/errors.html).
"""

import sys

from torch.distributed.elastic.multiprocessing.errors import record

from .cli import main

if __name__ == "__main__":
    sys.exit(record(main)())
