"""The ``mariadb`` kind: Debian's MariaDB server as a local process (or the ``mariadb:11`` image).

Options (the service's ``options:`` block):

* ``databases``: names to create (default: the service name with ``-`` → ``_``); the URL
  points at the first;
* ``user`` / ``password``: the application user (default ``interlock`` and a generated
  password); it may do anything on any database, as a test suite needs (create databases,
  truncate). ``root`` gets the same password, so no account is left without one.

The data folder is made with ``mariadb-install-db`` under the service's private folder; the
server listens on 127.0.0.1 only and on a socket in that folder, and runs as ``mysql`` when
started as root.

Example:
    >>> from pathlib import Path
    >>> ctx = KindContext("orders-db", Path("/tmp/x"), 3307, {"password": "pw"})
    >>> p = plan(ctx)
    >>> p.url
    'mysql://interlock:pw@127.0.0.1:3307/orders_db'
    >>> p.ready.kind
    'command'
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import stat
import subprocess
from pathlib import Path

from interlock.stack.base import DockerPlan, KindContext, ProcessPlan, ReadyCheck
from interlock.stack.kinds._local import installed

IMAGE = "mariadb:11"
_NAME = re.compile(r"^[A-Za-z0-9_$]{1,64}$")
_SYSTEM_USER = "mysql"


class MariaDBSetupError(RuntimeError):
    """``mariadb-install-db`` or the first-start SQL failed; the message has its output."""


def _options(ctx: KindContext) -> tuple[str, str, list[str]]:
    user = str(ctx.options.get("user", "interlock"))
    password = str(ctx.options.get("password") or secrets.token_urlsafe(18))
    databases = ctx.options.get("databases") or [ctx.name.replace("-", "_")]
    if isinstance(databases, str):
        databases = [databases]
    names = [str(d) for d in databases]
    for name in [user, *names]:
        if not _NAME.match(name):
            raise ValueError(
                f"mariadb service {ctx.name}: {name!r} is not a plain name "
                "(letters, digits, _ and $, at most 64)"
            )
    return user, password, names



def plan(ctx: KindContext) -> ProcessPlan:
    """A ``ProcessPlan`` running ``mariadbd`` on ``ctx.port`` with its data in ``ctx.workdir``."""
    user, password, databases = _options(ctx)
    workdir = ctx.workdir
    datadir = workdir / "data"
    socket = workdir / "mysqld.sock"
    as_root = os.geteuid() == 0
    command = [
        installed("mariadbd", "mysqld", package="mariadb-server"),
        "--no-defaults",  # ignore /etc/mysql: the machine's configuration is not the test's
        f"--datadir={datadir}",
        f"--port={ctx.port}",
        "--bind-address=127.0.0.1",
        f"--socket={socket}",
        f"--pid-file={workdir / 'mysqld.pid'}",
        f"--tmpdir={workdir}",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=32M",
        "--innodb-log-file-size=16M",
        "--innodb-flush-log-at-trx-commit=2",  # a test server needs no crash durability
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
    ]
    if as_root:
        command.append(f"--user={_SYSTEM_USER}")

    def prepare() -> None:
        _install(workdir, datadir, as_root)

    def after_ready() -> None:
        _create(socket, user, password, databases)

    ping = (
        installed("mariadb-admin", "mysqladmin", package="mariadb-client"),
        "--no-defaults",
        "--protocol=tcp",
        "--host=127.0.0.1",
        f"--port={ctx.port}",
        "--connect-timeout=2",
        "ping",  # exits 0 once the server answers, even when the login is refused
    )
    return ProcessPlan(
        command=command,
        port=ctx.port,
        url=f"mysql://{user}:{password}@127.0.0.1:{ctx.port}/{databases[0]}",
        ready=ReadyCheck(kind="command", command=ping, timeout=60.0),
        cwd=workdir,
        prepare=prepare,
        after_ready=after_ready,
        extra={"socket": str(socket), "user": user, "database": databases[0]},
    )


def _install(workdir: Path, datadir: Path, as_root: bool) -> None:
    if (datadir / "mysql").is_dir():
        return  # a restart keeps its data
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        installed("mariadb-install-db", "mysql_install_db", package="mariadb-server"),
        "--no-defaults",
        f"--datadir={datadir}",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=32M",
        "--innodb-log-file-size=16M",
    ]
    if as_root:
        account = pwd.getpwnam(_SYSTEM_USER)
        _let_traverse(workdir)
        os.chown(workdir, account.pw_uid, account.pw_gid)
        command.append(f"--user={_SYSTEM_USER}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise MariaDBSetupError(
            f"mariadb-install-db failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )


def _let_traverse(path: Path) -> None:
    """Give others the right to pass through (not list) the folders above ``path``, so the
    ``mysql`` user reaches its data in a root-owned temporary folder."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        # group too: a process demoted with only setuid keeps group root, and group bits
        # are checked before the bits for others
        if mode & (stat.S_IXGRP | stat.S_IXOTH) != stat.S_IXGRP | stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXGRP | stat.S_IXOTH)


def _create(socket: Path, user: str, password: str, databases: list[str]) -> None:
    quoted = password.replace("\\", "\\\\").replace("'", "\\'")
    sql = [f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4" for name in databases]
    sql += [
        f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{quoted}'",
        f"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'%' WITH GRANT OPTION",
        f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{quoted}'",
        # mariadb-install-db also makes password-less root@127.0.0.1, root@::1,
        # root@<hostname> (and maybe anonymous) accounts: remove them, as
        # mariadb-secure-installation would
        "DELETE FROM mysql.global_priv WHERE (User = 'root' AND Host <> 'localhost') OR User = ''",
        "FLUSH PRIVILEGES",
    ]
    script = ";\n".join(sql) + ";\n"
    client = installed("mariadb", "mysql", package="mariadb-client")
    base = [client, "--no-defaults", f"--socket={socket}", "--user=root", "--batch"]
    # First start: root has no password yet. After a restart it has ours (given through the
    # environment, never the command line, where `ps` would show it).
    last = ""
    for env in ({}, {"MYSQL_PWD": password}):
        done = subprocess.run(
            base,
            input=script,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, **env},
        )
        if done.returncode == 0:
            return
        last = done.stderr.replace(password, "***")
    raise MariaDBSetupError(f"creating databases and user failed: {last.strip()}")


def docker_plan(ctx: KindContext) -> DockerPlan:
    """The same server from the ``mariadb:11`` image (one database: the image creates one).

    Example:
        >>> from pathlib import Path
        >>> docker_plan(KindContext("orders-db", Path("/tmp/x"), 0, {"password": "pw"})).image
        'mariadb:11'
    """
    user, password, databases = _options(ctx)
    return DockerPlan(
        image=IMAGE,
        container_port=3306,
        url_template=f"mysql://{user}:{password}@{{host}}:{{port}}/{databases[0]}",
        ready=ReadyCheck(
            kind="command", command=("healthcheck.sh", "--connect", "--innodb_initialized")
        ),
        env={
            "MARIADB_USER": user,
            "MARIADB_PASSWORD": password,
            "MARIADB_ROOT_PASSWORD": password,
            "MARIADB_DATABASE": databases[0],
        },
        command=["--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"],
    )
