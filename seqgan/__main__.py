"""``python -m seqgan ...``, and the entry point for several processes:
``torchrun --standalone --nproc-per-node P -m seqgan train CONFIG --run-dir DIR``.

``record`` (torch.distributed.elastic) writes an uncaught exception of a rank where torchrun reports
it as the run's root cause (https://pytorch.org/docs/stable/elastic/errors.html). A worker that returns
ends through ``distributed.end_process``, which skips the interpreter's teardown (see there why).
"""

import sys

from torch.distributed.elastic.multiprocessing.errors import record

from .cli import main
from .runtime import distributed

if __name__ == "__main__":
    code = record(main)()
    if distributed.launched():  # a torchrun worker ends without the teardown that can abort it (end_process)
        distributed.end_process(int(code or 0))
    sys.exit(code)
