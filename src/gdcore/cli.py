"""The ``gdcore`` command."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    from . import build_info, get_cmake_dir

    parser = argparse.ArgumentParser(prog="gdcore", description="gdcore: gradient descent kernels")
    parser.add_argument("--cmake-dir", action="store_true", help="print the directory for find_package(gdcore)")
    parser.add_argument("--include-dir", action="store_true", help="print the C++ include directory")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("info", help="print build information (version, ISA paths, OpenMP, threads)")
    b = sub.add_parser("bench", help="run the optimizer benchmark and print its table")
    b.add_argument("--quick", action="store_true", help="small sizes and few repeats")
    args = parser.parse_args(argv)
    if args.cmake_dir:
        print(get_cmake_dir())
        return 0
    if args.include_dir:
        from . import get_include

        print(get_include())
        return 0
    if args.command == "info":
        for k, v in build_info().items():
            print(f"{k:14s} {v}")
        return 0
    if args.command == "bench":
        from .bench import run_optim_bench

        run_optim_bench(quick=args.quick, out=sys.stdout)
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
