"""The ``plentysync`` command: wiring of the command groups and the error handling every command shares.

Exit codes: 0 success; 1 failure; 2 bad usage, settings or configuration; 3 a run finished with
some entities failed; 70 internal error (details in the log file); 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

from cyclopts import App, CycloptsError

from plentysync import __version__
from plentysync.cli import cron, db, demo, profile, queue
from plentysync.cli.output import err_console, print_json
from plentysync.errors import PlentysyncError
from plentysync.log import get_logger

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

app = App(
    name="plentysync",
    help="Keeps a Magento 2 shop and a PlentyONE ERP in sync. Every command takes --help and --json.",
    version=__version__,
)
app.command(profile.app)
app.command(queue.app)
app.command(db.app)
app.command(cron.app)
app.command(demo.demo, name="demo")


def _fail(message: str, code: int, as_json: bool) -> NoReturn:
    if as_json:
        print_json({"error": {"message": message, "exit_code": code}})
    else:
        err_console.print(f"[red]error:[/red] {message}", markup=True, highlight=False, soft_wrap=True)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    tokens = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in tokens
    try:
        result = app(tokens, exit_on_error=False, print_error=False, result_action="return_value")
    except CycloptsError as exc:
        _fail(str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid command line", 2, as_json)
    except PlentysyncError as exc:
        _fail(str(exc), exc.exit_code, as_json)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED, as_json)
    except Exception as exc:
        get_logger(__name__).exception("cli.internal_error")
        _fail(f"internal error: {type(exc).__name__}: {exc} (the log file has the details)", EXIT_INTERNAL, as_json)
    sys.exit(result if isinstance(result, int) else 0)
