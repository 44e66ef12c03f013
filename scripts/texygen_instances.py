"""Score Texygen's own published sample files with seqgan's Texygen-form metrics.

Texygen ships the decoded samples behind its COCO table (geek-ai/Texygen, ``docs/instances/mle.txt``,
``seq.txt``, ``maligan.txt``; 9,984 captions each). Scoring them in both of Texygen's metric forms
shows which form the published figures are: BLEU against every test caption or the first 500, and
Self-BLEU over every sample or the first 500. The files are Texygen's and are not in this
repository; give a folder that holds them:

    python scripts/texygen_instances.py --instances TEXYGEN/docs/instances --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seqgan import texygen_data
from seqgan.bleu import BleuReference, self_bleu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", required=True, help="Texygen's docs/instances folder")
    parser.add_argument("--data-dir", default="../shared/data", help="where coco/test_coco.txt is")
    args = parser.parse_args()
    test = texygen_data.read_lines(Path(args.data_dir) / "coco" / "test_coco.txt")
    refs = [texygen_data.tokenize(line, lowercase=False) for line in test]
    full, fast = BleuReference(refs, 5), BleuReference(refs[:500], 5)
    out = {}
    for name in ("mle", "seq", "maligan"):
        lines = texygen_data.read_lines(Path(args.instances) / f"{name}.txt")
        hyps = [texygen_data.tokenize(line, lowercase=False) for line in lines]
        out[name] = {
            "samples": len(hyps),
            "bleu": full.mean_scores(hyps),
            "bleu_fast": fast.mean_scores(hyps),
            "self_bleu": self_bleu(hyps, 5),
            "self_bleu_fast": self_bleu(hyps[:500], 5),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
