"""The ``gdcore`` command (also ``python -m gdcore``).

    gdcore demo [--out DIR] [--quick] [--no-progress]
    gdcore info
    gdcore bench [--quick]
    gdcore --cmake-dir | --include-dir

A wrong argument -- ``demo --out`` naming a file, a path under a file or a
directory that is not writable included -- prints a message and exits with
status 2; ``demo`` without its extra (matplotlib, scikit-learn) exits with
status 1 before doing anything.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gdcore",
        description="gdcore: gradient descent on fused C++ SIMD/OpenMP kernels.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--cmake-dir", action="store_true",
                       help="print the directory for CMake's find_package(gdcore) and exit")
    where.add_argument("--include-dir", action="store_true",
                       help="print the C++ include directory and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="race optimizers on landscapes, train a logistic regression, write plots",
        description="Races the optimizers on classic landscapes, trains an L2 logistic "
        "regression on scikit-learn's bundled breast-cancer data with several optimizers "
        "and batch sizes, prints tables and writes PNG plots and a GIF.",
    )
    demo.add_argument("--out", default="gdcore-demo", metavar="DIR",
                      help="directory for the pictures (default: %(default)s)")
    demo.add_argument("--quick", action="store_true", help="fewer runs and iterations")
    demo.add_argument("--no-progress", action="store_true", help="no progress output")
    sub.add_parser("info", help="print build information: version, ISA paths, OpenMP, threads",
                   description="Print gdcore.build_info().")
    bench = sub.add_parser("bench", help="run the optimizer benchmark and print its table",
                           description="gdcore vs numpy vs torch vs the memory roofline.")
    bench.add_argument("--quick", action="store_true", help="small sizes and few repeats")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.cmake_dir or args.include_dir:
        if args.command is not None:
            parser.error("--cmake-dir/--include-dir take no command")
        from . import get_cmake_dir, get_include

        print(get_cmake_dir() if args.cmake_dir else get_include())
        return 0
    if args.command == "info":
        from . import build_info

        for k, v in build_info().items():
            print(f"{k:14s} {v}")
        return 0
    if args.command == "bench":
        from .bench import run_optim_bench

        run_optim_bench(quick=args.quick, out=sys.stdout)
        return 0
    if args.command == "demo":
        from .demo import OutputDirError, run_demo

        try:
            run_demo(args.out, quick=args.quick, progress=not args.no_progress)
        except ImportError as exc:
            print(f"gdcore demo: {exc}", file=sys.stderr)
            return 1
        except OutputDirError as exc:
            print(f"gdcore demo: error: argument --out: {exc}", file=sys.stderr)
            return 2
        return 0
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
