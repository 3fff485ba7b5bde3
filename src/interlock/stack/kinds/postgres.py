"""PostgreSQL, from the ``pgserver`` wheel: no system packages, no Docker.

The server binaries come with ``pgserver``; we run ``postgres`` ourselves (on a free TCP port
of 127.0.0.1, data in the run's folder) so that it is a process like any other: logged,
stoppable, pausable, swept. ``initdb`` runs once per machine into a cache and each run copies
that cluster, which takes a tenth of the time. Durability is switched off (fsync, full page
writes): test data does not need to survive a power cut.

Options: ``databases: [orders, notifications]`` are created once the server is ready.
``{name.url}`` is ``postgresql://postgres@127.0.0.1:<port>``; append ``/<database>``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
import time
import warnings
from pathlib import Path

from interlock._core.errors import InterlockError
from interlock._core.extras import requires
from interlock.stack.base import DockerPlan, KindContext, ProcessPlan, ReadyCheck

SYSTEM_USER = "pgserver"  # postgres refuses to run as root; pgserver's convention


def _bin_dir() -> Path:
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        raise InterlockError(
            "The postgres kind needs the pgserver package",
            hint="pip install --force-reinstall 'interlock[postgres]'",
        ) from None
    return Path(POSTGRES_BIN_PATH)


def _as_root() -> bool:
    return os.geteuid() == 0


def _prepare_root_access(bin_dir: Path, folder: Path) -> None:
    import stat

    from pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    # The run folder is private (0700): the postgres user may pass through it to its data,
    # not list it (pgserver's ensure_prefix_permissions would also open it for reading).
    for parent in folder.resolve().parents:
        mode = parent.stat().st_mode
        if mode & (stat.S_IXGRP | stat.S_IXOTH) != stat.S_IXGRP | stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXGRP | stat.S_IXOTH)
    ensure_prefix_permissions(bin_dir)
    perms = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(bin_dir, perms)
    ensure_folder_permissions(bin_dir.parent / "lib", stat.S_IRGRP | stat.S_IROTH)


def _chown_tree(path: Path) -> None:
    import pwd

    entry = pwd.getpwnam(SYSTEM_USER)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _cached_cluster(bin_dir: Path, databases: list[str]) -> Path:
    """An initdb'd cluster with ``databases`` already created, kept per machine, pgserver
    version and set of databases, made once (CREATE DATABASE costs ~0.3 s each)."""
    version = (bin_dir.parent / "VERSION").read_text().strip() if (
        bin_dir.parent / "VERSION"
    ).exists() else bin_dir.parent.parent.name
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "interlock"
    names = hashlib.sha256("\n".join(sorted(databases)).encode()).hexdigest()[:12]
    # v2: 1 MB WAL segments, so a copy per run is 40 MB, not 75 (copying is most of a start)
    cluster = cache / f"postgres-cluster-v2-{version}-{os.geteuid()}-{names}"
    if (cluster / "PG_VERSION").exists():
        return cluster
    building = cache / f"{cluster.name}.{os.getpid()}.tmp"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    if _as_root():
        _prepare_root_access(bin_dir, building)
        _chown_tree(building)
    result = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(building), "--auth=trust", "-U", "postgres",
         "--encoding=utf8", "--no-sync", "--wal-segsize=1"],
        capture_output=True, text=True, check=False,
        user=SYSTEM_USER if _as_root() else None,
    )
    if result.returncode != 0:
        raise InterlockError("initdb failed for the postgres kind", details=result.stderr[-2000:])
    if databases:
        _create_databases_offline(bin_dir, building, databases)
    try:
        building.rename(cluster)
    except OSError:  # another run made it first
        shutil.rmtree(building, ignore_errors=True)
    return cluster


def _create_databases_offline(bin_dir: Path, data: Path, databases: list[str]) -> None:
    """Start the new cluster on a private unix socket only, create the databases, stop it."""
    user = SYSTEM_USER if _as_root() else None
    server = subprocess.Popen(
        [str(bin_dir / "postgres"), "-D", str(data), "-k", str(data), "-c", "listen_addresses=",
         "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=user,
    )
    try:
        for name in databases:
            command = [str(bin_dir / "psql"), "-h", str(data), "-U", "postgres", "-q",
                       "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"']
            deadline = time.monotonic() + 30
            while True:
                result = subprocess.run(command, capture_output=True, text=True, check=False)
                if result.returncode == 0:
                    break
                if time.monotonic() > deadline or server.poll() is not None:
                    raise InterlockError(
                        f'Could not create database "{name}" in the cached cluster',
                        details=result.stderr.strip(),
                    )
                threading.Event().wait(0.05)  # the server is still starting: try again
    finally:
        server.terminate()
        server.wait(30)


def plan(ctx: KindContext) -> ProcessPlan:
    """PostgreSQL on ``ctx.port``, data under ``ctx.workdir``."""
    requires("pgserver", extra="postgres", what=f'Service "{ctx.name}" (kind: postgres)',
             where=f"services.{ctx.name}.kind")
    bin_dir = _bin_dir()
    data = ctx.workdir / "data"
    databases = [str(d) for d in ctx.options.get("databases", [])]
    port = str(ctx.port)

    def prepare() -> None:
        cluster = _cached_cluster(bin_dir, databases)
        if _as_root():
            # cp -a keeps the owner the cached cluster already has (the postgres user), which
            # saves walking a thousand files to chown them.
            subprocess.run(["cp", "-a", str(cluster), str(data)], check=True)
            _prepare_root_access(bin_dir, ctx.workdir)
            import pwd

            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(ctx.workdir, entry.pw_uid, entry.pw_gid)
        else:
            shutil.copytree(cluster, data, symlinks=True)
        data.chmod(0o700)

    def create_databases() -> None:
        # The cached cluster has them already; this only runs for a cluster made before.
        existing = subprocess.run(
            [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-At",
             "-c", "SELECT datname FROM pg_database"],
            capture_output=True, text=True, check=False,
        ).stdout.split()
        for name in [d for d in databases if d not in existing]:
            result = subprocess.run(
                [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", port, "-U", "postgres",
                 "-v", "ON_ERROR_STOP=1", "-q", "-c", f'CREATE DATABASE "{name}"'],
                capture_output=True, text=True, check=False,
            )
            if result.returncode != 0:
                raise InterlockError(
                    f'Could not create database "{name}" on service "{ctx.name}"',
                    details=result.stderr.strip(),
                )

    return ProcessPlan(
        command=[
            str(bin_dir / "postgres"), "-D", str(data), "-p", port, "-h", "127.0.0.1",
            "-k", str(ctx.workdir), "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=200",
            # shared memory segments in the data folder, so a killed server leaves none in /dev/shm
            "-c", "dynamic_shared_memory_type=mmap",
        ],
        port=ctx.port,
        url=f"postgresql://postgres@127.0.0.1:{port}",
        ready=ReadyCheck("log", pattern="database system is ready to accept connections",
                         timeout=60),
        user=SYSTEM_USER if _as_root() else None,
        prepare=prepare,
        after_ready=create_databases,
    )


def docker_plan(ctx: KindContext) -> DockerPlan:
    """PostgreSQL from the official image (trust auth: a test database).

    Readiness asks over TCP: the official image's first start runs a socket-only server
    for its init scripts, which would answer a socket ``pg_isready`` too early. The
    databases are created by ``psql`` inside the container once it answers, which works
    with any image that has ``psql`` (the official one, environment/images/postgres).

    Example:
        >>> from pathlib import Path
        >>> plan = docker_plan(KindContext("db", Path("/tmp/x"), 0, {"databases": ["a"]}))
        >>> plan.image, plan.setup[0][-2:]
        ('postgres:16', ['-c', 'CREATE DATABASE "a"'])
    """
    databases = [str(d) for d in ctx.options.get("databases", [])]
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
    create = [arg for d in databases for arg in ("-c", f'CREATE DATABASE "{d}"')]
    return DockerPlan(
        image=str(ctx.options.get("image", "postgres:16")),
        container_port=5432,
        url_template="postgresql://postgres@{host}:{port}",
        ready=ReadyCheck("command", command=("pg_isready", "-h", "127.0.0.1", "-U", "postgres"),
                         timeout=60),
        env={"POSTGRES_HOST_AUTH_METHOD": "trust"},
        setup=[psql + create] if create else [],
    )
