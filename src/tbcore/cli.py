"""The ``tbcore`` command (also ``python -m tbcore``): demo, inspect, export, plugins.

Every command exits 0 on success and 1 with a one-line ``tbcore: error: ...`` message
for a missing or empty log directory or unreadable files (2 for a wrong command line).
The commands and their options are described in docs/guide/cli.md (``tbcore --help`` lists them).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from tbcore import plugins
from tbcore.inspection import RunSummary, as_json, inspect_logdir
from tbcore.runs import list_runs

__all__ = ["main"]


class CliError(Exception):
    """A problem to report in one line, with exit status 1."""


def _existing_logdir(logdir: str, *, need_runs: bool = True) -> None:
    if not os.path.exists(logdir):
        raise CliError(f"log directory {logdir!r} does not exist")
    if not os.path.isdir(logdir):
        raise CliError(f"{logdir!r} is not a directory")
    if need_runs and not list_runs(logdir):
        raise CliError(f"log directory {logdir!r} holds no event files (names containing 'tfevents')")


# ---------------------------------------------------------------------- demo
def _cmd_demo(args: argparse.Namespace) -> int:
    from tbcore.demo import describe_outcome, run_demo

    if os.path.isdir(args.logdir) and list_runs(args.logdir):
        print(f"note: {args.logdir} already holds event files; the demo adds new ones next to them", file=sys.stderr)
    print(f"writing a demo run with every installed summary type into {args.logdir}", file=sys.stderr)
    outcome = run_demo(args.logdir)
    print("summary types:\n" + describe_outcome(outcome))
    print("\nread back with tbcore's reader:")
    _print_runs(inspect_logdir(args.logdir), verbose=False)
    print(f"\nview it:  tensorboard --logdir {args.logdir}   (then open http://localhost:6006)")
    if args.serve:
        return _serve(args.logdir, args.host, args.port)
    return 0


def _serve(logdir: str, host: str, port: int) -> int:
    from tbcore.testing import tensorboard_command

    if importlib.util.find_spec("tensorboard") is None:
        raise CliError("--serve needs TensorBoard: pip install tensorboard")
    command = [*tensorboard_command(), "--logdir", logdir, "--host", host, "--port", str(port)]
    print(f"starting: {' '.join(command)}  (Ctrl-C stops it)", file=sys.stderr)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


# ---------------------------------------------------------------------- inspect
def _time(value: float | None) -> str:
    if value is None:
        return "-"
    return datetime.datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M:%S")


def _print_runs(runs: list[RunSummary], verbose: bool = True) -> None:
    for run in runs:
        print(f"run {run.name!r}: {run.files} file(s), {run.bytes:,} bytes, {run.events:,} events")
        width = max((len(tag) for by_tag in run.tags.values() for tag in by_tag), default=0)
        for plugin, by_tag in run.tags.items():
            print(f"  {plugin}")
            for tag, info in by_tag.items():
                line = f"    {tag.ljust(width)}  {info.count:>7,} point(s)  steps {info.first_step}..{info.last_step}"
                if verbose:
                    line += f"  {_time(info.first_wall_time)} .. {_time(info.last_wall_time)}"
                print(line)


def _cmd_inspect(args: argparse.Namespace) -> int:
    _existing_logdir(args.logdir)
    runs = inspect_logdir(args.logdir, check_crc=not args.no_crc)
    warnings = [f"run {run.name!r}: {w}" for run in runs for w in run.warnings]
    unreadable = [path for run in runs for path in run.unreadable]
    if args.json:
        report = {"logdir": args.logdir, "runs": as_json(runs), "warnings": warnings, "unreadable": unreadable}
        print(json.dumps(report, indent=2))
    else:
        tags = sum(len(by_tag) for run in runs for by_tag in run.tags.values())
        print(f"log directory {args.logdir}: {len(runs)} run(s), {tags} tag(s)")
        _print_runs(runs)
        if warnings:
            print("warnings:")
            for warning in warnings:
                print(f"  - {warning}")
    if unreadable:
        raise CliError("cannot read " + "; ".join(unreadable))
    return 1 if args.strict and warnings else 0


# ---------------------------------------------------------------------- export
def _cmd_export(args: argparse.Namespace) -> int:
    from tbcore.export import export_table

    _existing_logdir(args.logdir)
    plugin_names = args.plugins or ["scalars"]
    several = len(plugin_names) > 1
    if several and args.out is None:
        raise CliError("--out DIRECTORY is needed to export several plugins (one file per plugin)")
    if args.format == "parquet" and args.out is None:
        raise CliError("--out FILE is needed for --format parquet")
    for plugin in plugin_names:
        out = os.path.join(args.out, f"{plugin}.{args.format}") if several else args.out
        if several:
            os.makedirs(args.out, exist_ok=True)
        options = {"runs": args.runs, "tags": args.tags, "on_corrupt": "warn" if args.skip_corrupt else "raise"}
        count = export_table(args.logdir, plugin, args.format, out, **options)
        if out is not None:
            print(f"{plugin}: {count:,} row(s) written to {out}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- plugins
def _hook_providers(hook: str) -> list[str]:
    implementations = getattr(plugins.get_plugin_manager().hook, hook).get_hookimpls()
    return sorted(impl.plugin_name for impl in implementations)


def _cmd_plugins(args: argparse.Namespace) -> int:
    infos = plugins.plugin_infos()

    def origin(provider: str) -> str:
        info = infos.get(provider)
        return f"{provider} ({info.distribution})" if info else provider

    types = plugins.summary_types()
    report: dict[str, Any] = {
        "summary_types": [
            {
                "name": name,
                "plugin_name": stype.plugin_name,
                "provider": origin(provider),
                "decoder": stype.decode is not None,
                "description": stype.description,
            }
            for name, (stype, provider) in sorted(types.items())
        ],
        "array_adapters": [origin(p) for p in _hook_providers("tbcore_array_adapter")],
        "graph_builders": [origin(p) for p in _hook_providers("tbcore_graph_builder")],
        "failed": dict(plugins.failed_plugins()),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    width = max((len(t["name"]) for t in report["summary_types"]), default=0)
    print("summary types (writer.add(name, ...)):")
    for t in report["summary_types"]:
        decoder = ", reader decodes it" if t["decoder"] else ""
        print(f"  {t['name'].ljust(width)}  -> TensorBoard '{t['plugin_name']}'  from {t['provider']}{decoder}")
        if t["description"]:
            print(f"  {' ' * width}     {t['description']}")
    print("array adapters: " + (", ".join(report["array_adapters"]) or "none"))
    print("graph builders: " + (", ".join(report["graph_builders"]) or "none"))
    if report["failed"]:
        print("entry points that failed to load:")
        for name, reason in sorted(report["failed"].items()):
            print(f"  {name}: {reason}")
    return 0


# ---------------------------------------------------------------------- main
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tbcore", description="TensorBoard event files without TensorFlow.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="write a run with every installed summary type, then show it")
    demo.add_argument("logdir", nargs="?", default="runs/demo", metavar="LOGDIR", help="default: runs/demo")
    demo.add_argument("--serve", action="store_true", help="start tensorboard on LOGDIR afterwards")
    demo.add_argument("--host", default="localhost", help="with --serve: the address to listen on (default: localhost)")
    demo.add_argument("--port", type=int, default=6006, help="with --serve: the port (default: 6006)")
    demo.set_defaults(run=_cmd_demo)

    inspect = commands.add_parser("inspect", help="runs, tags per plugin, step ranges, counts and warnings")
    inspect.add_argument("logdir", metavar="LOGDIR")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.add_argument("--no-crc", action="store_true", help="do not check record CRCs (faster)")
    inspect.add_argument("--strict", action="store_true", help="exit 1 if there are warnings")
    inspect.set_defaults(run=_cmd_inspect)

    export = commands.add_parser("export", help="write scalars (or other plugins) as CSV, JSON or Parquet")
    export.add_argument("logdir", metavar="LOGDIR")
    export.add_argument("--format", choices=("csv", "json", "parquet"), default="csv")
    export.add_argument("--out", help="output file (directory with several --plugins); default: stdout")
    export.add_argument("--plugins", nargs="+", metavar="PLUGIN", help="TensorBoard plugins (default: scalars)")
    export.add_argument("--runs", nargs="+", metavar="RUN", help="only these runs")
    export.add_argument("--tags", nargs="+", metavar="TAG", help="only these tags")
    export.add_argument("--skip-corrupt", action="store_true", help="warn about a corrupt file and go on")
    export.set_defaults(run=_cmd_export)

    listing = commands.add_parser("plugins", help="installed summary types, array adapters and broken plugins")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(run=_cmd_plugins)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tbcore`` command line; return the exit status (0, 1 for a reported error, 2 for usage).

    Errors are printed as one ``tbcore: error: ...`` line, not raised.

    :param argv: the arguments after the program name; None reads ``sys.argv``.
    """
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (CliError, FileNotFoundError, ImportError) as error:
        print(f"tbcore: error: {error}", file=sys.stderr)
    except OSError as error:
        print(f"tbcore: error: cannot read {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
    except ValueError as error:  # e.g. a corrupt record with on_corrupt="raise"
        print(f"tbcore: error: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
