"""Command line: ``python -m graph_emulator serve --info-file PATH [options]`` and
``python -m graph_emulator env --info-file PATH [--client NAME] [--auth METHOD]``."""

import argparse
import json
import os
import signal
import sys
import threading

from .config import CLOUDS, MATRICES, PROFILES, SHAPES, ConfigError
from .emulator import Emulator
from .environment import AUTH_METHODS, module_environment, shell_exports
from .seed import SeedError


def _parser():
    parser = argparse.ArgumentParser(prog="python -m graph_emulator", description="Local Microsoft Graph security + Entra ID emulator.")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("serve", help="run the emulator until SIGTERM or SIGINT")
    command.add_argument("--info-file", required=True, help="JSON file written once the server listens")
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=0, help="0 lets the OS pick a free port (default)")
    command.add_argument("--workdir", help="where ca.pem, client certificates and token files go (default: <info file dir>/graph-emulator-<pid>, kept)")
    command.add_argument("--data", help="seed data file (default: the bundled data/tenant.json)")
    command.add_argument("--shape", choices=SHAPES, default="schema")
    command.add_argument("--profile", choices=PROFILES, default="schema",
                         help="docs: answer as Microsoft's published examples show (README, 'Profiles')")
    command.add_argument("--cloud", choices=sorted(CLOUDS), default="global")
    command.add_argument("--matrix", choices=sorted(MATRICES), default="A", help="provider x action matrix (docs/service-contract.md row 4)")
    command.add_argument("--extra-identities", type=int, default=0, help="add N deterministic bulk identities")
    command.add_argument("--page-size", type=int, default=20)
    command.add_argument("--token-lifetime", type=int, default=3599, help="access token lifetime in seconds")
    exports = commands.add_parser("env", help="print export lines pointing the modules at a running emulator")
    exports.add_argument("--info-file", required=True, help="the info file written by 'serve'")
    exports.add_argument("--client", default="responder", help="app registration name from the info file (default responder)")
    exports.add_argument("--auth", choices=AUTH_METHODS, default="secret")
    return parser


def env(args):
    with open(args.info_file, encoding="utf-8") as handle:
        info = json.load(handle)
    print(shell_exports(module_environment(info, client=args.client, auth=args.auth)))
    return 0


def serve(args):
    workdir = args.workdir or os.path.join(os.path.dirname(os.path.abspath(args.info_file)), f"graph-emulator-{os.getpid()}")
    if os.path.exists(args.info_file):
        os.remove(args.info_file)  # a stale file from an earlier run must not look like "ready"
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        emulator = Emulator(workdir=workdir, host=args.host, port=args.port, data=args.data, shape=args.shape, cloud=args.cloud,
                            info_file=args.info_file, profile=args.profile, matrix=args.matrix, extra_identities=args.extra_identities,
                            page_size=args.page_size, token_lifetime_s=args.token_lifetime).start()
    except (ConfigError, SeedError, OSError) as exc:
        print(f"graph emulator: cannot start: {exc}", file=sys.stderr)
        return 2
    print(f"graph emulator listening on {emulator.base_url} (info file {args.info_file}, pid {os.getpid()})", file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    emulator.stop()
    print("graph emulator stopped", file=sys.stderr, flush=True)
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    return serve(args) if args.command == "serve" else env(args)


if __name__ == "__main__":
    sys.exit(main())
