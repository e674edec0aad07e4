"""Reading a chat script from disk: a regular file of at most MAX_BYTES, never a stream.

A script path can name anything: /dev/zero (endless), a FIFO in chats/ (open() waits for
a writer, deaf to Ctrl-C, and every reload would leave one more thread stuck behind it).
So the path is checked before it is opened, opened without blocking and checked again
on the open file (the path may change between the two), and read to one byte past the cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bot.yaml_lines import MAX_BYTES

__all__ = ["ScriptFileError", "read_script_file"]

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


class ScriptFileError(ValueError):
    """The file cannot be a script; the message says why and how to fix it."""


def read_script_file(path: Path) -> str:
    """The text of a script file: a small UTF-8 regular file (or a symlink to one).

    Anything else is a ScriptFileError saying what the path is and what to do.
    """
    try:
        _refuse_unless_regular(os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ScriptFileError("file not found; check the path") from None
    except OSError as exc:
        reason = exc.strerror or "cannot be read"
        raise ScriptFileError(f"{reason.lower()}; check the path") from None
    try:
        _refuse_unless_regular(os.fstat(fd).st_mode)
        data = _read_at_most(fd, MAX_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or "cannot be read"
        raise ScriptFileError(f"{reason.lower()}; check the path") from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise ScriptFileError(f"the file is over {MAX_BYTES // 1024} KB; a chat script may be "
                              f"at most {MAX_BYTES // 1024} KB: is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScriptFileError("not UTF-8 text; save it as UTF-8") from None


def _refuse_unless_regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise ScriptFileError(f"this is {kind}, not a file; a chat script is a .yaml file")


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
