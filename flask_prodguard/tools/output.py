"""Files the tools write into ``--output DIR``: atomically, never through a link.

``deploy-config`` and ``alert-rules`` write their files with
:func:`write_files`, under one rule:

- ``DIR`` is created when it does not exist; one that is a symbolic link
  (dangling or not) or no directory is refused. A link in a shared directory
  would send the file, a unit or a rules file, wherever its owner chose.
  Only ``DIR``'s last part is checked: links among its parent directories
  are followed, as for any path the user types (``--output linkdir/sub``
  writes under the link's target).
- A file that exists is replaced only with ``--force``, and never when it is
  a symbolic link or no regular file. Without ``--force`` nothing is written
  when any of the files exists: a set of rules is not left half old, half new.
- Each file is written to a temporary file in ``DIR`` and renamed over its
  name, so that a reader (nginx reloading, supervisor rereading) sees the old
  file or the new one, never a partial or empty one; on any error the
  temporary file is removed and the old file is left as it was.

Refusals are usage errors (:class:`click.BadParameter` on ``--output``, exit
status 2) naming the file; a file system that fails (permissions, a full
disk) is :class:`click.ClickException` (exit status 1).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

import click

#: Errors of :func:`os.link` from a file system without hard links: the
#: no-replace rename is then a check followed by a rename.
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}
)


def _refuse(message: str) -> click.BadParameter:
    return click.BadParameter(message, param_hint="--output")


def _failed(what: str, error: OSError) -> click.ClickException:
    return click.ClickException(f"could not {what}: {error.strerror or error}")


def _open_directory(directory: str) -> tuple[int, Path]:
    """A descriptor of ``directory``, created if missing, and its path.

    :raises click.BadParameter: It is a symbolic link, or no directory.
    """
    # Without its trailing slash ("deploy/" would name the link's target)
    # and with "." and ".." parts folded, the path names the entry itself.
    path = Path(os.path.normpath(directory))
    try:
        info: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise _failed(f"read {path}", error) from error
    if info is None:
        try:
            os.makedirs(path)
        except FileExistsError:
            pass  # created meanwhile, or a dangling link on the way: looked at below
        except OSError as error:
            raise _failed(f"create the directory {path}", error) from error
        info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise _refuse(
            f"{path} is a symbolic link: give the directory itself (a link can send the"
            " files anywhere)"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse(f"{path} exists and is not a directory")
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        # O_NOFOLLOW: a link put in its place since lstat is refused too.
        return os.open(path, flags | getattr(os, "O_CLOEXEC", 0)), path
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _refuse(f"{path} is a symbolic link: give the directory itself") from None
        raise _failed(f"open the directory {path}", error) from error


def _existing(name: str, directory: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _check_target(path: Path, info: os.stat_result | None, force: bool) -> None:
    if info is None:
        return
    if stat.S_ISLNK(info.st_mode):
        raise _refuse(f"{path} is a symbolic link: remove it, or write elsewhere")
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(f"{path} exists and is not a regular file")
    if not force:
        raise _refuse(f"{path} exists; pass --force to replace it")


def _write_temporary(name: str, data: bytes, directory: int, mode: int | None) -> str:
    """Write ``data`` to a new temporary file beside ``name``; its name."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    while True:
        temporary = f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            # 0o666 less the umask, as any new file; a replaced file keeps its mode.
            descriptor = os.open(temporary, flags, 0o666, dir_fd=directory)
            break
        except FileExistsError:
            continue
    try:
        if mode is not None:
            os.fchmod(descriptor, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    except BaseException:
        os.close(descriptor)
        _remove(temporary, directory)
        raise
    os.close(descriptor)
    return temporary


def _remove(name: str, directory: int) -> None:
    try:
        os.unlink(name, dir_fd=directory)
    except OSError:
        pass  # already gone: nothing is left behind either way


def _put_in_place(temporary: str, name: str, directory: int, force: bool) -> None:
    """Rename ``temporary`` to ``name``; without ``force``, never over a file
    that appeared since it was looked at."""
    if force:
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
        return
    try:
        # link() fails when the name exists, whatever it is: no race with a
        # file (or a link) created since the check.
        os.link(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        if _existing(name, directory) is not None:
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), name) from None
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    else:
        _remove(temporary, directory)


def write_files(directory: str, files: Mapping[str, str], *, force: bool) -> list[Path]:
    """Write ``files`` into ``directory`` under the rule of this module.

    :param directory: The ``--output`` directory; created (with its parents)
        when missing.
    :param files: File name (no directory part) -> text, written as UTF-8.
    :param force: Replace files that exist (``--force``).
    :returns: The paths written, in the order of ``files``.
    :raises click.BadParameter: ``directory`` or a file is a symbolic link or
        of another kind, or a file exists without ``force``: nothing written.
    :raises click.ClickException: The file system refused (permissions, a
        full disk); the files already written stay, the others are untouched.
    """
    # Encoded first: text that is no UTF-8 stops the command before any file
    # is touched.
    encoded = {name: text.encode("utf-8") for name, text in files.items()}
    descriptor, path = _open_directory(directory)
    try:
        try:
            found = {name: _existing(name, descriptor) for name in encoded}
        except OSError as error:
            raise _failed(f"read {path}", error) from error
        for name, info in found.items():
            _check_target(path / name, info, force)
        written = []
        for name, data in encoded.items():
            info = found[name]
            mode = stat.S_IMODE(info.st_mode) if info is not None else None
            try:
                temporary = _write_temporary(name, data, descriptor, mode)
            except OSError as error:
                raise _failed(f"write {path / name}", error) from error
            try:
                _put_in_place(temporary, name, descriptor, force)
            except FileExistsError:
                _remove(temporary, descriptor)
                raise _refuse(f"{path / name} exists; pass --force to replace it") from None
            except OSError as error:
                _remove(temporary, descriptor)
                raise _failed(f"write {path / name}", error) from error
            written.append(path / name)
        try:
            os.fsync(descriptor)  # the renames themselves, on disk
        except OSError:
            pass  # some file systems cannot sync a directory: the files are written
        return written
    finally:
        os.close(descriptor)


__all__ = ["write_files"]
