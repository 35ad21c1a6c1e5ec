"""``hstramp dq VALUE...``: name the WFC3/IR flags in DQ values."""

from hstramp.datamodels.dqflags import dq_mnemonics


def add_arguments(parser):
    """The subcommand's description and arguments."""
    parser.add_argument("values", nargs="+", type=int, help="DQ values, e.g. 2304")


def run(args):
    """Print each value and its flag names."""
    for value in args.values:
        names = dq_mnemonics(value)
        print(f"{value:6d}  {' | '.join(names) if names else 'GOOD'}")
    return 0
