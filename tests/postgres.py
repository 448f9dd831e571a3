"""A throwaway PostgreSQL 15 cluster for the test run: temp dir, 127.0.0.1, free port, trust auth.

The server refuses to run as root, so under root the cluster belongs to the `postgres` user and the
binaries run through `runuser`. Durability is switched off (fsync, synchronous_commit): the data dies
with the test run anyway, and it makes CREATE DATABASE … TEMPLATE fast enough for one database per test.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import asyncpg

SEARCH_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
OWNER = "postgres"


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl (PATH first, then Debian's layout), or None."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    for folder in SEARCH_DIRS:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on a private loop in a thread: safe from sync fixtures and inside a running loop."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


class PostgresServer:
    """A running throwaway cluster; `stop()` kills it and removes its files."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir = bindir
        self.root = root
        self.port = port
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "postgres.log"

    # -- lifecycle -----------------------------------------------------------------------------------

    @classmethod
    def start(cls, bindir: Path, *, attempts: int = 3) -> PostgresServer:
        root = Path(tempfile.mkdtemp(prefix="collectif-pg-"))
        try:
            as_root = os.geteuid() == 0
            if as_root:
                user = pwd.getpwnam(OWNER)
                os.chown(root, user.pw_uid, user.pw_gid)
            server = cls(bindir, root, 0)
            server.sockets.mkdir()
            if as_root:
                os.chown(server.sockets, user.pw_uid, user.pw_gid)
            server._pg("initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust",
                       "--encoding=UTF8", "--locale=C", "--no-sync")
            for attempt in range(attempts):  # a free port can be taken between probe and bind
                server.port = _free_port()
                try:
                    server._pg("pg_ctl", "-D", str(server.data), "-l", str(server.log), "-w", "-t", "30",
                               "-o", server._options(), "start")
                    break
                except RuntimeError:
                    if attempt == attempts - 1:
                        raise
            return server
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise

    def _options(self) -> str:
        return (
            f"-h 127.0.0.1 -p {self.port} -k {self.sockets} -F "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c shared_buffers=64MB"
        )

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _pg(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OWNER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.root)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{log}")

    # -- databases -----------------------------------------------------------------------------------

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements: str) -> None:
        """Run admin statements (CREATE/DROP DATABASE…) outside any transaction, from sync code."""

        async def run() -> None:
            conn = await asyncpg.connect(
                host="127.0.0.1", port=self.port, user="postgres", database="postgres"
            )
            try:
                for statement in statements:
                    await conn.execute(statement)
            finally:
                await conn.close()

        run_sync(run())

    def create_database(self, *, template: str | None = None, name: str | None = None) -> str:
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{clause}')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

