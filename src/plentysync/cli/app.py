"""The ``plentysync`` command: wiring of the command groups and the error handling every command shares.

Set PLENTYSYNC_DEBUG=1 to see the traceback of an internal error on the terminal.

Exit codes: 0 success; 1 failure; 2 bad usage, settings or configuration (also a database_url that
cannot work: wrong role or password, no such database or host, the driver not installed); 3 a run
finished with some entities failed; 4 the state database is unavailable, a failure of the environment
rather than of the settings (server down or unreachable, SQLite file or directory read-only, disk full,
the SQLite file deleted); 70 internal error (details in the log file); 130 interrupted (Ctrl-C);
143 terminated (SIGTERM): both after the command has unwound (sessions logged out, rows given back).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from cyclopts import App, CycloptsError, Parameter

from plentysync import __version__
from plentysync.cli import signals
from plentysync.cli.output import err_console, print_json
from plentysync.errors import PlentysyncError
from plentysync.log import configure_logging, current_log_file, get_logger

EXIT_INTERNAL = 70

app = App(
    name="plentysync",
    help="Keeps a Magento 2 shop and a PlentyONE ERP in sync. Every command takes --help and --json.",
    version=__version__,
    # flags are switched on by naming them; no --no-x / --empty-x twins cluttering --help
    default_parameter=Parameter(negative=(), negative_iterable=()),
    # main() reports an interruption (Ctrl-C, SIGTERM) with its own message and exit code
    suppress_keyboard_interrupt=False,
)
# Command groups load on first use: `plentysync queue stats` imports the queue commands, not the stock,
# sandbox or worker modules (every CLI call pays the imports; the CLI tests make hundreds of calls).
_GROUPS = {
    "profile": "Profiles: one configured sync job per type (entity + direction).",
    "queue": "The coalescing queue: one row per (profile type, entity key).",
    "db": "The state database: schema migrations and encrypted credentials.",
    "cron": "Scheduled runs: plan schedule jobs and run the due ones.",
    "sandbox": "Simulated PlentyONE and Magento servers for trying plentysync without real systems.",
    "connection": "Connections to PlentyONE and Magento: URL, options and encrypted credentials.",
    "stock": "Stock in both directions: export Magento's stock to PlentyONE, import PlentyONE's.",
    "worker": "The long-running process: runs due schedules, drains the queues, runs the pollers, consumes the "
    "message queue and sends notifications. `plentysync worker` starts it; `worker status` lists workers.",
    "notifications": "Notifications: list, send the digest, test the channels, clean up.",
}
for _name, _help in _GROUPS.items():
    app.command(f"plentysync.cli.{_name}:app", name=_name, help=_help)
app.command("plentysync.cli.demo:demo", name="demo")
app.command("plentysync.cli.serve:serve", name="serve")
app.command(
    "plentysync.cli.status:status", name="status", help="One screen: profiles, runs, queues, errors, budget, workers."
)


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
    signals.install()
    try:
        result = app(tokens, exit_on_error=False, print_error=False, result_action="return_value")
    except CycloptsError as exc:
        _fail(str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid command line", 2, as_json)
    except PlentysyncError as exc:
        _fail(str(exc), exc.exit_code, as_json)
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C or SIGTERM (a second one cancels at once)
        _fail(*signals.interruption(), as_json)
    except Exception as exc:
        if os.environ.get("PLENTYSYNC_DEBUG"):
            raise
        get_logger(__name__).exception("cli.internal_error")
        log_file = current_log_file()
        where = f"traceback in {log_file}" if log_file else "rerun with PLENTYSYNC_DEBUG=1 for the traceback"
        _fail(f"internal error: {type(exc).__name__}: {exc} ({where})", EXIT_INTERNAL, as_json)
    sys.exit(result if isinstance(result, int) else 0)
