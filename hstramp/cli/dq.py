"""``hstramp dq VALUE...``: name the WFC3/IR flags in DQ values."""

from hstramp.cli.arguments import integer_in
from hstramp.datamodels.dqflags import dq_mnemonics


def add_arguments(parser):
    """The subcommand's description and arguments."""
    parser.add_argument("values", nargs="+", type=integer_in(0, 65535),
                        help="DQ values (16-bit, 0..65535), e.g. 2304")


def run(args):
    """Print each value and its flag names."""
    for value in args.values:
        names = dq_mnemonics(value)
        print(f"{value:6d}  {' | '.join(names) if names else 'GOOD'}")
    return 0
