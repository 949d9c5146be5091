"""``mbcrisk serve`` and ``mbcrisk keys``: run the API over the registered champions, and manage
its API keys."""

from __future__ import annotations

import argparse
import os
import sys

from cli import command_help
from models.bundles.errors import ModelLoadError
from serving.keys import KeyStore
from serving.settings import KEEP_ALIVE_S, Settings


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Register ``serve`` and ``keys``."""
    serve = commands.add_parser(
        "serve", help=command_help("serve"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--public-url", help="the base URL clients reach the service at (sets "
                       "MBCRISK_PUBLIC_URL): CDS cards link to model cards under it; without "
                       "it they carry no links")
    serve.set_defaults(handler=run_serve)
    keys = commands.add_parser("keys", help=command_help("keys"))
    keys.add_argument("action", choices=("create", "revoke", "list"))
    keys.add_argument("name", nargs="?", help="key name (create, revoke)")
    keys.set_defaults(handler=run_keys)


def prepare_environment(settings: Settings) -> None:
    """Keep BentoML's model store under the service's state directory."""
    os.environ.setdefault("BENTOML_HOME", str(settings.bentoml_home))
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    os.environ["MBCRISK_STATE_DIR"] = str(settings.state_dir)


def run_serve(args: argparse.Namespace) -> int:
    """Refuse to start without champions or with a tampered model; else exec bentoml serve."""
    if args.public_url:
        os.environ["MBCRISK_PUBLIC_URL"] = args.public_url
    settings = Settings.from_env()
    prepare_environment(settings)
    from serving.store import import_champions, load_served_models  # heavy: only to serve
    from training.tracking.store import connect

    connect()

    try:
        imported = import_champions()
        load_served_models()
    except ModelLoadError as error:
        print(f"mbcrisk serve: refusing to start: {error}", file=sys.stderr)
        return 2
    for task, model in imported.items():
        print(f"serving {task}: {model.info.labels['mlflow_name']} version "
              f"{model.info.labels['mlflow_version']} ({model.tag})", flush=True)
    command = [sys.executable, "-m", "bentoml", "serve", "serving.service:MBCRiskService",
               "--host", args.host, "--port", str(args.port),
               "--timeout-keep-alive", str(KEEP_ALIVE_S)]
    os.execv(sys.executable, command)
    return 0  # not reached


def run_keys(args: argparse.Namespace) -> int:
    """Create (printing the key once), revoke or list keys."""
    store = KeyStore(Settings.from_env().store_url)
    if args.action == "list":
        for name, created, revoked in store.names():
            print(f"{name}\tcreated {created}\t{'revoked ' + revoked if revoked else 'active'}")
        return 0
    if not args.name:
        raise ValueError(f"keys {args.action} needs a NAME")
    if args.action == "create":
        print(store.create(args.name))
        print(f"(key '{args.name}' created; it is not shown again, only its hash is stored)",
              file=sys.stderr)
        return 0
    if not store.revoke(args.name):
        raise ValueError(f"no active key named {args.name!r}")
    print(f"key '{args.name}' revoked")
    return 0
