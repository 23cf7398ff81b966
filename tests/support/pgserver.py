"""A throwaway PostgreSQL cluster for tests: initdb in a temp dir, started on a free loopback port.

Standard library only, so that ``.ci/run`` can use it before anything is installed::

    python3 tests/support/pgserver.py start DIR  # prints its URL (postgresql://…:PORT/postgres)
    python3 tests/support/pgserver.py stop DIR   # stops the server and removes DIR

The cluster trusts every local connection (``-A trust``), listens only on 127.0.0.1 (plus a
unix socket inside DIR) and trades durability for speed (``fsync=off`` and friends): it is for
tests, never for data. As root, initdb and pg_ctl run as the ``postgres`` user (they refuse
root), and DIR is handed to that user.

Where the binaries are found: ``$VIGGLE_TEST_PG_BINDIR`` if set (only there), else ``PATH``,
else the newest ``/usr/lib/postgresql/*/bin`` (Debian puts them there, off ``PATH``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

BINDIR_ENV = "VIGGLE_TEST_PG_BINDIR"
SEARCH_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin")
RUN_AS = "postgres"  # the user the binaries run as when we are root
START_TIMEOUT_S = 60
PORT_ATTEMPTS = 5  # a free port can be taken between picking it and the server binding it

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
    "timezone": "'UTC'",
}


class PgUnavailableError(RuntimeError):
    """No cluster can be started here; the message says why (to print, or to skip a test with)."""


@dataclass(frozen=True)
class Binaries:
    initdb: Path
    pg_ctl: Path


def _version_key(bindir: Path) -> tuple[int, ...]:
    """Sort key for /usr/lib/postgresql/<ver>/bin: the numeric parts of <ver>."""
    parts = bindir.parent.name.replace("-", ".").split(".")
    return tuple(int(p) for p in parts if p.isdigit())


def _in_dir(bindir: Path) -> Binaries | None:
    initdb, pg_ctl = bindir / "initdb", bindir / "pg_ctl"
    if os.access(initdb, os.X_OK) and os.access(pg_ctl, os.X_OK):
        return Binaries(initdb, pg_ctl)
    return None


def find_binaries() -> Binaries:
    """initdb and pg_ctl: ``$VIGGLE_TEST_PG_BINDIR``, else PATH, else the newest known bin dir."""
    explicit = os.environ.get(BINDIR_ENV)
    if explicit:
        found = _in_dir(Path(explicit))
        if found is None:
            raise PgUnavailableError(f"initdb/pg_ctl not found in ${BINDIR_ENV}={explicit}")
        return found
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Binaries(Path(initdb), Path(pg_ctl))
    candidates = [Path(p) for pattern in SEARCH_GLOBS for p in _glob(pattern)]
    for bindir in sorted(candidates, key=_version_key, reverse=True):
        found = _in_dir(bindir)
        if found is not None:
            return found
    raise PgUnavailableError(
        "initdb not found (looked on PATH and in " + ", ".join(SEARCH_GLOBS) + ")"
    )


def _glob(pattern: str) -> list[str]:
    root, _, rest = pattern.partition("/")  # absolute patterns: root is ""
    return [str(p) for p in Path(root + "/").glob(rest)]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunAs:
    """Who the PostgreSQL binaries run as: ourselves, or (as root) the ``postgres`` user."""

    uid: int | None = None
    gid: int | None = None

    @classmethod
    def for_current_user(cls) -> RunAs:
        if os.geteuid() != 0:
            return cls()
        try:
            pw = pwd.getpwnam(RUN_AS)
        except KeyError:
            raise PgUnavailableError(
                f"running as root, and initdb refuses root, but there is no {RUN_AS!r} user "
                "to run it as (installing the postgresql package creates one)"
            ) from None
        return cls(pw.pw_uid, pw.pw_gid)

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        if self.uid is None:
            return subprocess.run(
                args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
            )
        return subprocess.run(
            args,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            user=self.uid,
            group=self.gid,
            extra_groups=[],
        )

    def hand_over(self, path: Path) -> None:
        """Make ``path`` ours (the run-as user's) and check that user can reach it."""
        if self.uid is None or self.gid is None:
            return
        os.chown(path, self.uid, self.gid)
        for parent in path.resolve().parents:
            st = parent.stat()
            if st.st_uid == self.uid:
                bit = stat.S_IXUSR
            elif st.st_gid == self.gid:
                bit = stat.S_IXGRP
            else:
                bit = stat.S_IXOTH
            if not st.st_mode & bit:
                raise PgUnavailableError(
                    f"user {RUN_AS!r} cannot enter {parent} (mode {stat.filemode(st.st_mode)}), "
                    f"so it cannot use a cluster in {path}; put the cluster elsewhere "
                    "(e.g. under /tmp) or chmod o+x that folder"
                )


class Cluster:
    """One cluster in ``root``: ``root/data`` (PGDATA), ``root/sock``, ``root/postgres.log``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.sock = root / "sock"
        self.log = root / "postgres.log"
        self.url_file = root / "url"

    @property
    def url(self) -> str:
        return self.url_file.read_text(encoding="utf-8").strip()

    def start(self) -> str:
        """initdb and start the server; returns its URL. On failure, nothing is left running."""
        bins, who = find_binaries(), RunAs.for_current_user()
        self.root.mkdir(mode=0o700, exist_ok=True)
        if any(self.root.iterdir()):
            raise PgUnavailableError(f"{self.root} is not empty")
        who.hand_over(self.root)
        self._initdb(bins, who)
        try:
            port = self._start_on_free_port(bins, who)
        except BaseException:
            self._stop(bins, who)
            raise
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self.url_file.write_text(url + "\n", encoding="utf-8")
        return url

    def _initdb(self, bins: Binaries, who: RunAs) -> None:
        args = [str(bins.initdb), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
        args += ["--no-sync", "--encoding=UTF8", "--locale=C"]
        done = who.run(args, cwd=self.root)
        if done.returncode != 0:
            raise PgUnavailableError(f"initdb failed ({done.returncode}): {_tail(done.stderr)}")
        sockets = str(self.sock) if len(str(self.sock)) < 90 else ""  # sun_path is ~107 bytes
        if sockets:
            self.sock.mkdir()
            who.hand_over(self.sock)
        lines = [f"{k} = {v}" for k, v in SETTINGS.items()]
        lines.append(f"unix_socket_directories = '{sockets}'")
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# tests/support/pgserver.py: a throwaway test cluster\n")
            conf.write("\n".join(lines) + "\n")

    def _start_on_free_port(self, bins: Binaries, who: RunAs) -> int:
        for _ in range(PORT_ATTEMPTS):
            port = free_port()
            args = [str(bins.pg_ctl), "start", "-D", str(self.data), "-l", str(self.log), "-w"]
            args += ["-t", str(START_TIMEOUT_S), "-o", f"-p {port}"]
            done = who.run(args, cwd=self.root)
            log = (
                self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
            )
            if done.returncode == 0:
                _wait_for_tcp(port)
                return port
            if "already in use" not in log:
                raise PgUnavailableError(
                    f"pg_ctl start failed ({done.returncode}): {_tail(done.stdout + done.stderr)}"
                    f"\nserver log:\n{_tail(log, 20)}"
                )
            self.log.unlink()
        raise PgUnavailableError(f"no free port after {PORT_ATTEMPTS} attempts")

    def stop(self) -> None:
        """Stop the server (if it runs) and remove ``root`` (only if it holds nothing else)."""
        try:
            if self.data.exists():
                self._stop(find_binaries(), RunAs.for_current_user())
        finally:
            ours = {p.name for p in (self.data, self.sock, self.log, self.url_file)}
            if self.root.is_dir() and {p.name for p in self.root.iterdir()} <= ours:
                shutil.rmtree(self.root, ignore_errors=True)

    def _stop(self, bins: Binaries, who: RunAs) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        for mode in ("fast", "immediate"):
            args = [str(bins.pg_ctl), "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "30"]
            if who.run(args, cwd=self.root).returncode == 0:
                return
            if not (self.data / "postmaster.pid").exists():
                return


def _wait_for_tcp(port: int, timeout_s: float = 10.0) -> None:
    """pg_ctl -w already waited for "ready"; make sure the TCP listener answers too."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError as e:
            if time.monotonic() > deadline:
                raise PgUnavailableError(f"server started but 127.0.0.1:{port} refuses: {e}") from e
            time.sleep(0.05)


def _tail(text: str, lines: int = 5) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no output)"


def temp_cluster() -> Cluster:
    """A cluster in a fresh temp dir (not started)."""
    return Cluster(Path(tempfile.mkdtemp(prefix="viggle-pg-")))


def with_database(url: str, database: str) -> str:
    """``url`` with its database (the path) replaced; user, host, port and query kept."""
    return urlunsplit(urlsplit(url)._replace(path="/" + quote(database)))


@contextmanager
def fresh_database(server_url: str, prefix: str = "viggle_test") -> Iterator[str]:
    """A new, empty database on the server (dropped, with its sessions, on exit); its URL.

    template0: always pristine, and never "being accessed by other users". Needs psycopg.
    """
    import psycopg
    from psycopg import sql

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: pgserver.py start|stop DIR", file=sys.stderr)
        return 2
    cluster = Cluster(Path(argv[1]).absolute())
    if argv[0] == "stop":
        cluster.stop()
        return 0
    created = not cluster.root.exists()
    try:
        url = cluster.start()
    except (PgUnavailableError, OSError, subprocess.SubprocessError) as e:
        if created:
            cluster.stop()
        print(f"pgserver: cannot start PostgreSQL: {e}", file=sys.stderr)
        return 1
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
