"""Command-line plumbing shared by the scripts in ``tools/dataset_converters``.

Every converter script takes a source and an output folder, runs one
conversion that returns a :class:`NYULayoutWriter`, prints its summary, and
ends with a one-line ``error: ...`` message (no traceback) when the input is
missing or malformed.
"""
import argparse
import sys
from typing import Callable

from .nyu_layout import NYULayoutWriter


def converter_parser(doc: str, source: str,
                     source_help: str) -> argparse.ArgumentParser:
    """A parser with the positional arguments of every converter script.

    Args:
        doc (str): The script's docstring; its first line is the parser's
            description.
        source (str): Name of the first positional argument, the data to
            convert.
        source_help (str): Help text of ``source``.

    Returns:
        argparse.ArgumentParser: Parser of ``source`` and ``out_root``; the
        script adds its own options.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(source, help=source_help)
    parser.add_argument('out_root', help='output folder (NYU layout)')
    return parser


def run_converter(
        parser: argparse.ArgumentParser,
        convert: Callable[[argparse.Namespace], NYULayoutWriter]) -> None:
    """Parse the command line, convert, and print the writer's summary.

    Args:
        parser (argparse.ArgumentParser): The script's parser.
        convert (callable): Runs the conversion the parsed arguments ask for
            and returns its writer.

    Raises:
        SystemExit: ``error: <message>`` when ``convert`` raises an OSError
            or a ValueError (a missing file, a bad encoding).
    """
    args = parser.parse_args()
    try:
        writer = convert(args)
    except (OSError, ValueError) as error:
        sys.exit(f'error: {error}')
    print(writer.summary())
