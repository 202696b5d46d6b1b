"""The data dir holds secrets (the database with its ciphertexts and key hashes,
``secret_key``, ``byok.key``, ``quickstart.json``): the directory is 0700, its files 0600.

New files get those modes when they are made (the SQLite database is created empty at
0600 before SQLite opens it, and SQLite gives its ``-wal`` and ``-shm`` files the database
file's mode). A directory or file found looser — made by an older version, or copied in —
is tightened at start, and each one is named in the log. Modes are only ever narrowed:
nothing here makes a file more readable than it was.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
# SQLite's companions of a database file: the same secrets, in other files.
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def secure_data_files(data_dir: Path, database_file: Path | None, *, create: bool) -> None:
    """Make (``create``) or tighten the data dir and the SQLite file with its companions."""
    if create:
        data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if data_dir.is_dir():
        _tighten_tree(data_dir)
    if database_file is not None:
        if create and not database_file.exists():
            database_file.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            os.close(os.open(database_file, os.O_WRONLY | os.O_CREAT, FILE_MODE))
        for suffix in SQLITE_SUFFIXES:
            _tighten(database_file.with_name(database_file.name + suffix), FILE_MODE)


def _tighten_tree(root: Path) -> None:
    _tighten(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            _tighten(Path(folder) / name, DIR_MODE)
        for name in files:
            _tighten(Path(folder) / name, FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    """Remove every permission beyond ``mode`` (group and other), keeping the owner's."""
    try:
        current = stat.S_IMODE(path.lstat().st_mode)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(path.lstat().st_mode) or current & ~mode == 0:
        return  # a symlink's target is not ours to change; already tight enough
    try:
        path.chmod(current & mode)
    except OSError as exc:
        log.warning("cannot tighten %s (mode %04o): %s", path, current, exc.strerror)
        return
    log.warning(
        "tightened %s from mode %04o to %04o: data files hold secrets and are for the "
        "server's user alone",
        path,
        current,
        current & mode,
    )
