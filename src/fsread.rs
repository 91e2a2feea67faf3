//! Reading files: only regular files, never blocking, always with a cap.
//!
//! A name in a tree can be a FIFO, a terminal, `/dev/zero`, or a symlink to one of them or
//! to a blocking "regular" file of a pseudo file system (`/proc/kmsg`, a tracefs pipe):
//! `open` on a FIFO waits for a writer, `read` on the others waits or never ends. So every
//! open is `O_NONBLOCK` (a FIFO opens at once, a blocking read fails with `EAGAIN`),
//! `fstat` refuses what is not a regular file before a byte is read, and every read stops
//! at a cap that fits its purpose ([`CONFIG_CAP`] for unit files, environment files and
//! `.pth` files); sources are hashed by streaming ([`hash_stream`]) and never held whole.

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags, Stat};
use std::io;
use std::path::Path;

/// Unit files, drop-ins, `EnvironmentFile`s, `.pth` and `pyvenv.cfg` files, `/proc` files:
/// real ones are a few KiB.
pub const CONFIG_CAP: u64 = 1 << 20;

/// Python sources read whole to be parsed (`imports`): the largest real ones, generated
/// tables, are a few MiB; sources are hashed by streaming, without this cap.
pub const SOURCE_CAP: u64 = 64 << 20;

/// A `.pyc` read whole to be decoded (`inspect`, the explorer's details): CPython's
/// biggest generated modules compile to a few MiB.
pub const PYC_CAP: u64 = 64 << 20;

/// The flags of every read-only open: no blocking, no controlling terminal.
fn flags(follow: bool) -> OFlags {
    let mut f = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    if !follow {
        f |= OFlags::NOFOLLOW;
    }
    f
}

/// What a file that is not regular is, for the error message.
fn kind_text(ft: FileType) -> &'static str {
    match ft {
        FileType::Fifo => "a FIFO",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Socket => "a socket",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symlink",
        _ => "not a regular file",
    }
}

/// Refuses an open file that is not regular; its `stat` otherwise.
fn regular(fd: OwnedFd) -> io::Result<(OwnedFd, Stat)> {
    let st = rustix::fs::fstat(&fd)?;
    let ft = FileType::from_raw_mode(st.st_mode);
    if ft != FileType::RegularFile {
        let kind = match ft {
            FileType::Directory => io::ErrorKind::IsADirectory,
            _ => io::ErrorKind::InvalidInput,
        };
        return Err(io::Error::new(
            kind,
            format!("{}, not a regular file: not read", kind_text(ft)),
        ));
    }
    Ok((fd, st))
}

/// Opens `path` for reading if it is a regular file (`follow`: through a final symlink).
pub fn open_regular(path: &Path, follow: bool) -> io::Result<(OwnedFd, Stat)> {
    regular(rustix::fs::open(path, flags(follow), Mode::empty())?)
}

/// Opens `name` in the directory `dir` for reading if it is a regular file.
pub fn open_regular_at(
    dir: BorrowedFd<'_>,
    name: &Path,
    follow: bool,
) -> io::Result<(OwnedFd, Stat)> {
    regular(rustix::fs::openat(dir, name, flags(follow), Mode::empty())?)
}

/// What `path` is (following links) when it is a FIFO, a device or a socket: a file that
/// must not be read as a script or a project (`open` or `read` would wait or never end).
pub fn special_kind(path: &Path) -> Option<&'static str> {
    let st = rustix::fs::stat(path).ok()?;
    match FileType::from_raw_mode(st.st_mode) {
        ft @ (FileType::Fifo
        | FileType::CharacterDevice
        | FileType::BlockDevice
        | FileType::Socket) => Some(kind_text(ft)),
        _ => None,
    }
}

/// One `read`, retried on `EINTR`; `EAGAIN` (a pseudo file with nothing to read yet) is an
/// error: waiting for it would hang.
pub fn read_some(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match rustix::io::read(fd, &mut *buf) {
            Ok(n) => return Ok(n),
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "reading it would block (a pipe-like special file): not read",
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads from `fd` until its end or until `buf` is full; the number of bytes read.
pub fn read_up_to(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let mut len = 0;
    while len < buf.len() {
        match read_some(fd, &mut buf[len..])? {
            0 => break,
            n => len += n,
        }
    }
    Ok(len)
}

/// The whole file behind `fd`, or an error when it holds more than `cap` bytes (`/proc`
/// files say size 0, so the cap is checked on what is read, not only on `st_size`).
pub fn read_all(fd: BorrowedFd<'_>, st: &Stat, cap: u64) -> io::Result<Vec<u8>> {
    let too_big = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than the {} limit: not read", human(cap)),
        )
    };
    let size = u64::try_from(st.st_size).unwrap_or(0);
    if size > cap {
        return Err(too_big());
    }
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0) + 1);
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let n = read_some(fd, &mut chunk)?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() as u64 + n as u64 > cap {
            return Err(too_big());
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// The regular file at `path` (following symlinks), at most `cap` bytes.
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let (fd, st) = open_regular(path, true)?;
    read_all(fd.as_fd(), &st, cap)
}

/// [`read_capped`] as text; bytes that are not UTF-8 are an error, as `read_to_string`'s.
pub fn read_string_capped(path: &Path, cap: u64) -> io::Result<String> {
    String::from_utf8(read_capped(path, cap)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not valid UTF-8"))
}

/// Feeds the whole file behind `fd` to `write` in 64 KiB chunks: memory stays flat
/// whatever the size (a sparse 4 GiB source is hashed, not loaded).
pub fn hash_stream(fd: BorrowedFd<'_>, mut write: impl FnMut(&[u8])) -> io::Result<()> {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match read_some(fd, &mut chunk)? {
            0 => return Ok(()),
            n => write(&chunk[..n]),
        }
    }
}

fn human(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_before_a_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, Mode::from_raw_mode(0o600)).unwrap();
        let err = read_capped(&fifo, CONFIG_CAP).unwrap_err();
        assert!(err.to_string().contains("a FIFO"), "{err}");
        let err = read_capped(Path::new("/dev/zero"), CONFIG_CAP).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert!(open_regular(&link, false).is_err());
        assert!(open_regular(&link, true).is_err());
        assert_eq!(special_kind(&link), Some("a FIFO"));
        assert_eq!(
            special_kind(Path::new("/dev/zero")),
            Some("a character device")
        );
        assert_eq!(special_kind(dir.path()), None);
    }

    #[test]
    fn reads_stop_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, vec![b'x'; 100]).unwrap();
        assert_eq!(read_capped(&f, 100).unwrap().len(), 100);
        let err = read_capped(&f, 99).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
        // A /proc file says size 0: the cap holds on what is read.
        let status = read_capped(Path::new("/proc/self/status"), CONFIG_CAP).unwrap();
        assert!(!status.is_empty());
        assert!(read_capped(Path::new("/proc/self/status"), 8).is_err());
    }

    /// A pseudo file that would block (`/proc/kmsg`, a tracefs pipe) is opened
    /// `O_NONBLOCK`, so its read fails at once; a pipe with no writer data stands in.
    #[test]
    fn a_read_that_would_block_is_an_error_not_a_wait() {
        let (reader, _writer) = std::io::pipe().unwrap();
        let fd = OwnedFd::from(reader);
        let flags = rustix::fs::fcntl_getfl(&fd).unwrap();
        rustix::fs::fcntl_setfl(&fd, flags | OFlags::NONBLOCK).unwrap();
        let err = read_up_to(fd.as_fd(), &mut [0u8; 16]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
        assert!(err.to_string().contains("would block"), "{err}");
    }

    #[test]
    fn streaming_sees_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&f, &data).unwrap();
        let (fd, _) = open_regular(&f, false).unwrap();
        let mut seen = Vec::new();
        hash_stream(fd.as_fd(), |c| seen.extend_from_slice(c)).unwrap();
        assert_eq!(seen, data);
    }
}
