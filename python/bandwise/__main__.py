"""``python -m bandwise protocol --torch pkg.module:Class [--set k=v ...]``: the standard
frequency-preference protocol on a PyTorch optimizer (``bandwise.torch.protocol``). This is
what ``bandwise protocol --torch`` runs; the flags are the same."""

import argparse
import sys


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bandwise")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("protocol", help="the standard protocol on a PyTorch optimizer")
    p.add_argument("--torch", required=True, metavar="pkg.module:Class",
                   help="the optimizer class: an import path or a torch.optim name")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a constructor argument (repeatable; the value is TOML), not lr")
    p.add_argument("--out", help="output directory [default: runs/protocol_<label>]")
    p.add_argument("--quick", action="store_true", help="300 epochs, 2 seeds, 5 lrs: a smoke test")
    p.add_argument("--references", choices=["torch", "rust"], default="torch",
                   help="who trains the references [default: torch]")
    p.add_argument("--jobs", type=int, default=1, help="parallel runs of the bandwise-trained references")
    p.add_argument("--format", choices=["term", "md", "json", "csv"], default="term")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    args = ap.parse_args(argv)

    import bandwise.torch as bt

    try:
        r = bt.protocol(args.torch, quick=args.quick, out=args.out, references=args.references,
                        sets=args.set, jobs=args.jobs, progress=not args.quiet, format=args.format)
    except (ValueError, ImportError, AttributeError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(r.rendered)
    if args.format == "term":
        print(r.summary)
    if not args.quiet:
        print(f"protocol records -> {r.out} (report.md, report.json, one sweep directory per optimizer)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
