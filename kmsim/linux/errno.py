"""uapi/asm-generic/errno-base.h and errno.h: Linux's error numbers."""
import errno as _e

EPERM = 1
ENOENT = 2
ESRCH = 3
EINTR = 4
EIO = 5
ENXIO = 6
E2BIG = 7
ENOEXEC = 8
EBADF = 9
ECHILD = 10
EAGAIN = 11
EWOULDBLOCK = EAGAIN
ENOMEM = 12
EACCES = 13
EFAULT = 14
ENOTBLK = 15
EBUSY = 16
EEXIST = 17
EXDEV = 18
ENODEV = 19
ENOTDIR = 20
EISDIR = 21
EINVAL = 22
ENFILE = 23
EMFILE = 24
ENOTTY = 25
ETXTBSY = 26
EFBIG = 27
ENOSPC = 28
ESPIPE = 29
EROFS = 30
EMLINK = 31
EPIPE = 32
EDOM = 33
ERANGE = 34
EDEADLK = 35
ENAMETOOLONG = 36
ENOLCK = 37
ENOSYS = 38
ENOTEMPTY = 39
ELOOP = 40
ENOMSG = 42
ENODATA = 61
ETIME = 62
EOVERFLOW = 75
EILSEQ = 84
ENOTSUPP = 524
EOPNOTSUPP = 95
ETIMEDOUT = 110
ECANCELED = 125

__all__ = [n for n in dir() if n.startswith("E")] + ["strerror"]


def strerror(err: int) -> str:
    """The C library's message for an errno (positive or negative)."""
    return _e.errorcode.get(abs(err)) and __import__("os").strerror(abs(err)) or f"Unknown error {err}"
