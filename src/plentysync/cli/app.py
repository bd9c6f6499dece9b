"""The ``plentysync`` command: wiring of the command groups and the error handling every command shares.

Set PLENTYSYNC_DEBUG=1 to see the traceback of an internal error on the terminal.

Exit codes: 0 success; 1 failure; 2 bad usage, settings or configuration; 3 a run finished with
some entities failed; 70 internal error (details in the log file); 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from cyclopts import App, CycloptsError, Parameter

from plentysync import __version__
from plentysync.cli import connection, cron, db, demo, profile, queue, sandbox, stock, worker
from plentysync.cli.output import err_console, print_json
from plentysync.errors import PlentysyncError
from plentysync.log import configure_logging, current_log_file, get_logger

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

app = App(
    name="plentysync",
    help="Keeps a Magento 2 shop and a PlentyONE ERP in sync. Every command takes --help and --json.",
    version=__version__,
    # flags are switched on by naming them; no --no-x / --empty-x twins cluttering --help
    default_parameter=Parameter(negative=(), negative_iterable=()),
)
app.command(profile.app)
app.command(queue.app)
app.command(db.app)
app.command(cron.app)
app.command(demo.demo, name="demo")
app.command(sandbox.app)
app.command(connection.app)
app.command(stock.app)
app.command("plentysync.cli.serve:serve", name="serve")
app.command(worker.app)
app.command("plentysync.cli.notifications:app", name="notifications")
app.command("plentysync.cli.status:status", name="status")


def _fail(message: str, code: int, as_json: bool) -> NoReturn:
    if as_json:
        print_json({"error": {"message": message, "exit_code": code}})
    else:
        err_console.print(f"[red]error:[/red] {message}", markup=True, highlight=False, soft_wrap=True)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    tokens = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in tokens
    configure_logging(None)  # until the settings name the log directory: warnings to stderr only
    try:
        result = app(tokens, exit_on_error=False, print_error=False, result_action="return_value")
    except CycloptsError as exc:
        _fail(str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid command line", 2, as_json)
    except PlentysyncError as exc:
        _fail(str(exc), exc.exit_code, as_json)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED, as_json)
    except Exception as exc:
        if os.environ.get("PLENTYSYNC_DEBUG"):
            raise
        get_logger(__name__).exception("cli.internal_error")
        log_file = current_log_file()
        where = f"traceback in {log_file}" if log_file else "rerun with PLENTYSYNC_DEBUG=1 for the traceback"
        _fail(f"internal error: {type(exc).__name__}: {exc} ({where})", EXIT_INTERNAL, as_json)
    sys.exit(result if isinstance(result, int) else 0)
