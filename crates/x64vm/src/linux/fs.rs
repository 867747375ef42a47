//! A private in-memory file system and file-descriptor table. The host's files
//! are never visible: a program sees only what the embedder put here.

use std::collections::BTreeMap;

use super::syscalls::{EBADF, EINVAL, EISDIR, ENOENT};

/// Open flags (Linux x86-64 values).
const O_ACCMODE: u64 = 3;
const O_WRONLY: u64 = 1;
const O_CREAT: u64 = 0o100;
const O_TRUNC: u64 = 0o1000;
const O_APPEND: u64 = 0o2000;
const O_DIRECTORY: u64 = 0o200000;

/// What an open descriptor refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    /// Standard input (reads from the supplied bytes).
    Stdin,
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// A file of the in-memory file system.
    File(String),
}

#[derive(Clone, Debug)]
struct Open {
    node: Node,
    pos: u64,
    append: bool,
    writable: bool,
}

/// Files by absolute path, plus the descriptor table.
#[derive(Clone, Debug)]
pub struct MemFs {
    files: BTreeMap<String, Vec<u8>>,
    fds: Vec<Option<Open>>,
    /// Bytes held by all files together.
    total: u64,
    /// Bytes the files grew by since the last [`MemFs::take_growth`] (charged as gas).
    grown: u64,
}

/// Most descriptors open at once.
const MAX_FDS: usize = 1024;
/// Most files the program may create (`ENOSPC` past it): every file costs host memory.
pub const MAX_FILES: usize = 4096;
/// Most bytes all files may hold together (`ENOSPC` past it), so that a program
/// cannot make the host allocate more than this however it seeks and writes.
pub const MAX_FS_BYTES: u64 = 256 << 20;
/// `ENOSPC`.
const ENOSPC: i64 = 28;

impl Default for MemFs {
    fn default() -> Self {
        let std = |node, writable| {
            Some(Open {
                node,
                pos: 0,
                append: false,
                writable,
            })
        };
        MemFs {
            files: BTreeMap::new(),
            fds: vec![
                std(Node::Stdin, false),
                std(Node::Stdout, true),
                std(Node::Stderr, true),
            ],
            total: 0,
            grown: 0,
        }
    }
}

fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

impl MemFs {
    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: &str, data: Vec<u8>) {
        self.total += data.len() as u64;
        if let Some(old) = self.files.insert(normalize(path), data) {
            self.total -= old.len() as u64;
        }
    }

    /// Bytes the files grew by since the last call (the dispatcher charges gas for them).
    pub(crate) fn take_growth(&mut self) -> u64 {
        std::mem::take(&mut self.grown)
    }

    /// The contents of a file, if it exists.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(&normalize(path)).map(Vec::as_slice)
    }

    fn slot(&mut self) -> Result<usize, i64> {
        if let Some(i) = self.fds.iter().position(Option::is_none) {
            return Ok(i);
        }
        if self.fds.len() >= MAX_FDS {
            return Err(-super::syscalls::EMFILE);
        }
        self.fds.push(None);
        Ok(self.fds.len() - 1)
    }

    fn open_ref(&mut self, fd: u64) -> Result<&mut Open, i64> {
        self.fds
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(-EBADF)
    }

    pub(crate) fn node(&self, fd: u64) -> Option<&Node> {
        self.fds
            .get(fd as usize)
            .and_then(Option::as_ref)
            .map(|o| &o.node)
    }

    /// `open`: returns a descriptor or a negative errno.
    pub(crate) fn open(&mut self, path: &str, flags: u64) -> i64 {
        let path = normalize(path);
        if flags & O_DIRECTORY != 0 || path == "/" {
            return -EISDIR;
        }
        let writable = flags & O_ACCMODE != 0;
        if !self.files.contains_key(&path) {
            if flags & O_CREAT == 0 {
                return -ENOENT;
            }
            if self.files.len() >= MAX_FILES {
                return -ENOSPC;
            }
            self.files.insert(path.clone(), Vec::new());
        }
        if flags & O_TRUNC != 0
            && writable
            && let Some(old) = self.files.insert(path.clone(), Vec::new())
        {
            self.total -= old.len() as u64;
        }
        let fd = match self.slot() {
            Ok(fd) => fd,
            Err(e) => return e,
        };
        let writable = writable || flags & O_ACCMODE == O_WRONLY;
        self.fds[fd] = Some(Open {
            node: Node::File(path),
            pos: 0,
            append: flags & O_APPEND != 0,
            writable,
        });
        fd as i64
    }

    /// `close`.
    pub(crate) fn close(&mut self, fd: u64) -> i64 {
        match self.fds.get_mut(fd as usize) {
            Some(slot @ Some(_)) => {
                *slot = None;
                0
            }
            _ => -EBADF,
        }
    }

    /// `dup2` / `dup3`.
    pub(crate) fn dup2(&mut self, old: u64, new: u64) -> i64 {
        let Some(Some(o)) = self.fds.get(old as usize).cloned() else {
            return -EBADF;
        };
        let new = new as usize;
        if new >= MAX_FDS {
            return -EBADF;
        }
        if self.fds.len() <= new {
            self.fds.resize(new + 1, None);
        }
        self.fds[new] = Some(o);
        new as i64
    }

    /// `dup`.
    pub(crate) fn dup(&mut self, old: u64) -> i64 {
        let Some(Some(o)) = self.fds.get(old as usize).cloned() else {
            return -EBADF;
        };
        match self.slot() {
            Ok(fd) => {
                self.fds[fd] = Some(o);
                fd as i64
            }
            Err(e) => e,
        }
    }

    /// `unlink`.
    pub(crate) fn unlink(&mut self, path: &str) -> i64 {
        if let Some(old) = self.files.remove(&normalize(path)) {
            self.total -= old.len() as u64;
            0
        } else {
            -ENOENT
        }
    }

    /// Reads up to `n` bytes from a file descriptor (not stdin).
    pub(crate) fn read_file(&mut self, fd: u64, n: u64) -> Result<Vec<u8>, i64> {
        let o = self.open_ref(fd)?;
        let Node::File(path) = o.node.clone() else {
            return Err(-EBADF);
        };
        let pos = o.pos;
        let data = self.files.get(&path).ok_or(-ENOENT)?;
        let start = (pos as usize).min(data.len());
        let end = start.saturating_add(n as usize).min(data.len());
        let out = data[start..end].to_vec();
        self.open_ref(fd)?.pos = end as u64;
        Ok(out)
    }

    /// Writes to a file descriptor that names a file.
    pub(crate) fn write_file(&mut self, fd: u64, bytes: &[u8]) -> i64 {
        let o = match self.open_ref(fd) {
            Ok(o) => o,
            Err(e) => return e,
        };
        let Node::File(path) = o.node.clone() else {
            return -EBADF;
        };
        if !o.writable {
            return -EBADF;
        }
        let (append, pos) = (o.append, o.pos);
        let Some(data) = self.files.get_mut(&path) else {
            return -ENOENT;
        };
        let start = if append { data.len() } else { pos as usize };
        if start > (1 << 30) {
            return -super::syscalls::EFBIG;
        }
        let growth = (start + bytes.len()).saturating_sub(data.len()) as u64;
        if self.total + growth > MAX_FS_BYTES {
            return -ENOSPC;
        }
        if growth > 0 {
            data.resize(start + bytes.len(), 0);
            self.total += growth;
            self.grown += growth;
        }
        data[start..start + bytes.len()].copy_from_slice(bytes);
        let new_pos = (start + bytes.len()) as u64;
        if let Ok(o) = self.open_ref(fd) {
            o.pos = new_pos;
        }
        bytes.len() as i64
    }

    /// `lseek`.
    pub(crate) fn lseek(&mut self, fd: u64, off: i64, whence: u64) -> i64 {
        let size = match self.node(fd) {
            Some(Node::File(p)) => self.files.get(p).map_or(0, Vec::len) as i64,
            Some(_) => return -super::syscalls::ESPIPE,
            None => return -EBADF,
        };
        let Ok(o) = self.open_ref(fd) else {
            return -EBADF;
        };
        let base = match whence {
            0 => 0,
            1 => o.pos as i64,
            2 => size,
            _ => return -EINVAL,
        };
        match base.checked_add(off) {
            Some(p) if p >= 0 => {
                o.pos = p as u64;
                p
            }
            _ => -EINVAL,
        }
    }

    /// Size of the file behind `fd`, or None for the standard streams.
    pub(crate) fn size(&self, fd: u64) -> Result<Option<u64>, i64> {
        match self.node(fd) {
            Some(Node::File(p)) => Ok(Some(self.files.get(p).map_or(0, Vec::len) as u64)),
            Some(_) => Ok(None),
            None => Err(-EBADF),
        }
    }

    /// Size of a file by path.
    pub(crate) fn size_of(&self, path: &str) -> Option<u64> {
        self.files.get(&normalize(path)).map(|d| d.len() as u64)
    }
}
