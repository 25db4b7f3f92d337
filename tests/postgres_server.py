"""A throwaway PostgreSQL server for the lake tests: Debian's binaries (installed by scripts/test.sh),
initdb into a temp dir, listening on a free 127.0.0.1 port and a socket in that dir, password auth.

initdb and postgres refuse to run as root, and CI runs as root: the server then runs as the
`postgres` user the Debian package creates (runuser), owning its temp dir. Anything that stops the
server from starting raises PostgresUnavailable with the reason and the server's log, so a test that
needs it fails loudly instead of skipping.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import closing
from pathlib import Path

USER, PASSWORD, DATABASE = "lake", "s3cr3t-pg-pw", "lake"
SERVICE_ACCOUNT = "postgres"


class PostgresUnavailable(RuntimeError):
    pass


def find_binary(name: str) -> str:
    """`name` on PATH, else the newest /usr/lib/postgresql/*/bin/`name` (Debian keeps them off PATH)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not candidates:
        raise PostgresUnavailable(f"{name} not found on PATH nor in /usr/lib/postgresql/*/bin: "
                                  "install Debian's postgresql package (scripts/test.sh does)")
    return candidates[-1]


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dashboard-pg-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.port = free_port()
        self.started = False
        self._as = []
        if os.geteuid() == 0:  # initdb: "cannot be run as root"
            try:
                account = pwd.getpwnam(SERVICE_ACCOUNT)
            except KeyError:
                raise PostgresUnavailable(f"running as root and there is no {SERVICE_ACCOUNT!r} user to run the "
                                          "server as (Debian's postgresql package creates it)") from None
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as = [shutil.which("runuser") or "runuser", "-u", SERVICE_ACCOUNT, "--"]

    @property
    def url(self) -> str:
        return f"postgres://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *argv: str) -> str:
        try:
            done = subprocess.run([*self._as, *argv], cwd=self.root, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{' '.join(argv[:2])}: {exc}") from None
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise PostgresUnavailable(f"{' '.join(argv[:2])} failed ({done.returncode}):\n{done.stdout}\n"
                                      f"{done.stderr}\n{log[-4000:]}")
        return done.stdout

    def start(self) -> "PostgresServer":
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> "PostgresServer":
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._as:
            shutil.chown(pwfile, SERVICE_ACCOUNT)
        # --no-sync, fsync=off: a throwaway cluster needs no durability, and starts in half the time
        self._run(find_binary("initdb"), "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
                  "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        pwfile.unlink()
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run(find_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60",
                  "start")
        self.started = True
        self._psql(f"CREATE DATABASE {DATABASE}")
        return self

    def _psql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, dbname="postgres",
                             autocommit=True) as con:
            con.execute(sql)

    def stop(self) -> None:
        try:
            if self.started:
                self._run(find_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def load_frames(url: str, frames: dict) -> None:
    """Each pandas frame as a table of that name (replacing it), NaN as NULL as in Parquet."""
    import ibis
    import pyarrow as pa

    con = ibis.connect(url)
    try:
        for name, frame in frames.items():
            # not drop_table / overwrite=True: ibis 12 builds DROP in a form sqlglot 30 prints as a bare
            # `DROP TABLE IF EXISTS`
            con.raw_sql(f'DROP TABLE IF EXISTS "{name}"').close()
            con.create_table(name, pa.Table.from_pandas(frame, preserve_index=False))
    finally:
        con.disconnect()
