"""Rebuild every shipped text model, its metadata and its card from the labelled data.

    .venv/bin/python training/train_models.py [--data ../shared/data] [--out DIR] [--seed 42]

Same data and seed → same weights (see `weights_sha256` in each model's JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from yuqing.errors import ConfigError
from yuqing.pipeline.analyze.classifiers import ARTIFACTS_DIR
from yuqing.pipeline.analyze.training import SEED, train_all

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        scores = train_all(args.data, args.out, seed=args.seed)
    except ConfigError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(json.dumps(scores, indent=2, ensure_ascii=False))
    print(f"artifacts in {args.out} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
