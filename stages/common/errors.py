"""The errors a user can meet, each rendered as one actionable line, and the exit codes they map to."""
from __future__ import annotations

import atexit
import os
import signal
import sys
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

EXIT_BAD_PARAMS = 2  # argparse and our params validation share this code
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # the shell's code for a process ended by a signal

F = TypeVar("F", bound=Callable[..., object])


class UserError(Exception):
    """A problem the user can fix; its message is the whole story, in one line."""

    exit_code = EXIT_FAILED


class ParamsError(UserError):
    """A value in params.yaml (or on `dvc exp run -S`) that is not allowed."""

    exit_code = EXIT_BAD_PARAMS


class DataError(UserError):
    """A dataset file that does not have the expected shape or content."""


class DownloadError(UserError):
    """A download that could not be completed; the previous data is untouched."""


def one_line(message: str) -> str:
    """Collapse a message to a single line so logs and DVC's output keep it whole."""
    return " ".join(str(message).split())


_signalled = False


def _interrupt(signum: int, frame: object) -> None:
    global _signalled
    _signalled = True
    raise KeyboardInterrupt


def _exit_finished() -> None:
    # Every output is written and closed by now; tearing the interpreter down would only free memory, and with
    # TensorFlow loaded that takes ~1 s per stage process (measured: 4.0 s to import keras and exit, 2.9 s with this).
    atexit._run_exitfuncs()  # what Python would still run: the params-read log, logging's flush
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def stage_entry(main: F) -> F:
    """Wrap a stage's main(): a UserError prints one line to stderr and exits with its code; SIGTERM and
    SIGINT unwind like an exception, so staged outputs are removed and nothing half-written remains. Run as a
    program (`python -m stages.X`), a stage that finished ends without the interpreter's teardown."""

    @wraps(main)
    def wrapper(*args, **kwargs):
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            result = main(*args, **kwargs)
            if main.__module__ == "__main__":
                _exit_finished()
            return result
        except UserError as error:
            print(f"error: {one_line(str(error))}", file=sys.stderr)
            sys.exit(error.exit_code)
        except BaseException as error:
            # A signal may surface as another exception type from inside native code (TensorFlow).
            if not (_signalled or isinstance(error, KeyboardInterrupt)) or isinstance(error, SystemExit):
                raise
            print("interrupted: nothing was written; run the stage again", file=sys.stderr)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper  # type: ignore[return-value]
