//! `clean --restore DIR`: put quarantined files back, reconciling `files/` with the journal.
//!
//! An entry is restored only where [`super::place`] accepts it, reached the way clean
//! reached it (by handle from its root, never through a symlink); a missing `__pycache__`
//! is made by handle (mode 755, owned like its parent). Whatever cannot be put back (and any file in `files/` no entry explains)
//! is a failure, so the exit status says a file is still out of the tree.

use super::journal::{self, Intent, Record, RunHeader};
use super::place::{Walker, check_entry};
use super::{FILES, MANIFEST, WHAT, copy_fd, open_files, open_manifest, unhex};
use crate::actions::plan::{ActionKind, Plan};
use crate::actions::remove::{errno_text, same_file};
use crate::actions::report::{Outcome, Report, StepOutcome};
use crate::safe_dir::{self, DIR_NOFOLLOW};
use crate::scan::record::display_path;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, RenameFlags, openat, renameat2};
use nix::sys::stat::{FileStat, Mode, fstat, fstatat};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, unlinkat};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// A manifest larger than this was not written by pycache (12,000 files take about 5 MiB).
const MAX_MANIFEST: u64 = 256 << 20;

/// Puts every quarantined file of `dir` back where it came from, unless something exists
/// there now. Restored entries leave the manifest; the others stay for a later attempt.
pub fn restore(dir: &Path) -> Result<Report, String> {
    let qdir = safe_dir::open_private_dir(dir, None, WHAT)?;
    let manifest = open_manifest(qdir.as_fd(), dir, OFlag::O_RDONLY)?;
    let files = open_files(qdir.as_fd(), dir, false)?;
    let mut bytes = Vec::new();
    (&*manifest)
        .take(MAX_MANIFEST + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", display_path(&dir.join(MANIFEST))))?;
    if bytes.len() as u64 > MAX_MANIFEST {
        return Err(format!(
            "{} is larger than {} MiB: not a manifest pycache wrote",
            display_path(&dir.join(MANIFEST)),
            MAX_MANIFEST >> 20
        ));
    }
    let parsed = journal::parse(&bytes);
    let mut present = list_names(files.as_fd()).map_err(|e| {
        format!(
            "cannot list {}: {}",
            display_path(&dir.join(FILES)),
            e.desc()
        )
    })?;
    let mut job = Restore {
        files: files.as_fd(),
        dir,
        walker: Walker::default(),
        outcomes: Vec::new(),
    };
    let mut runs: HashMap<String, RunHeader> = HashMap::new();
    let mut marks: HashMap<String, Record> = HashMap::new();
    let mut intents: Vec<Intent> = Vec::new();
    for (_, record) in parsed.records {
        match record {
            Record::Run(h) => {
                runs.entry(h.run.clone()).or_insert(h);
            }
            Record::Intent(i) => intents.push(i),
            Record::Done { ref file } | Record::Abandoned { ref file } => {
                marks.insert(file.clone(), record.clone());
            }
        }
    }
    let mut kept_lines: Vec<String> = Vec::new();
    let mut kept_runs: BTreeSet<String> = BTreeSet::new();
    let mut seen: HashSet<String> = HashSet::new();
    for intent in &intents {
        if !seen.insert(intent.file.clone()) {
            job.fail(
                &dir.join(MANIFEST),
                format!(
                    "a second entry for {} (a manifest pycache did not write): ignored",
                    shown_file(&intent.file)
                ),
            );
            continue;
        }
        let in_files = present.remove(OsStr::new(&intent.file));
        let mark = marks.get(&intent.file);
        if job.entry(intent, runs.get(&intent.run), in_files, mark) {
            kept_runs.insert(intent.run.clone());
            kept_lines.push(line(&Record::Intent(intent.clone())));
            if let Some(m) = mark {
                kept_lines.push(line(m));
            }
        }
    }
    for (number, text, torn) in &parsed.bad {
        let why = if let Some(old) = legacy(text) {
            // Written before manifests recorded their roots: nothing vouches for the path.
            present.remove(OsStr::new(&old.file));
            format!(
                "line {number} is an entry of an older pycache that recorded no roots, so it is not restored: {} came from {}; move it back by hand",
                shown_file(&old.file),
                display_path(Path::new(&old.path))
            )
        } else if *torn {
            format!(
                "line {number} is torn (the run was cut off while writing it): kept; delete that line once the files are back"
            )
        } else {
            format!(
                "line {number} is not a manifest entry: kept; delete that line once the files are back"
            )
        };
        job.fail(&dir.join(MANIFEST), why);
        kept_lines.push(text.clone());
    }
    for name in present {
        let shown = dir.join(FILES).join(&name);
        job.fail(
            &shown,
            "no manifest entry says where it came from: left in the quarantine; move it back by hand".into(),
        );
    }
    let mut body: String = runs
        .values()
        .filter(|h| kept_runs.contains(&h.run))
        .map(|h| line(&Record::Run(h.clone())))
        .collect::<Vec<_>>()
        .concat();
    for l in kept_lines {
        body.push_str(l.trim_end_matches('\n'));
        body.push('\n');
    }
    safe_dir::replace_at(
        qdir.as_fd(),
        OsStr::new(MANIFEST),
        body.as_bytes(),
        0o600,
        &|f| f.sync_all(),
    )
    .map_err(|e| format!("cannot rewrite {}: {e}", display_path(&dir.join(MANIFEST))))?;
    drop(manifest);
    Ok(Report::new(
        &Plan::new(ActionKind::Restore, vec![dir.to_path_buf()]),
        job.outcomes,
        false,
    ))
}

/// An entry as pycache wrote them before the journal (no `kind`, no run).
#[derive(serde::Deserialize)]
struct Legacy {
    file: String,
    path: String,
}

fn legacy(text: &str) -> Option<Legacy> {
    serde_json::from_str(text).ok()
}

fn line(r: &Record) -> String {
    serde_json::to_string(r).unwrap_or_default() + "\n"
}

fn shown_file(file: &str) -> String {
    display_path(&Path::new(FILES).join(file))
}

/// Names in a directory (not `.` and `..`).
fn list_names(dir: BorrowedFd<'_>) -> nix::Result<HashSet<OsString>> {
    let mut listing = nix::dir::Dir::openat(dir, ".", DIR_NOFOLLOW, Mode::empty())?;
    Ok(listing
        .iter()
        .filter_map(Result::ok)
        .map(|e| OsString::from_vec(e.file_name().to_bytes().to_vec()))
        .filter(|n| n != "." && n != "..")
        .collect())
}

struct Restore<'a> {
    files: BorrowedFd<'a>,
    dir: &'a Path,
    walker: Walker,
    outcomes: Vec<StepOutcome>,
}

impl Restore<'_> {
    fn push(&mut self, path: &Path, outcome: Outcome) {
        let index = self.outcomes.len();
        self.outcomes.push(StepOutcome::new(index, path, outcome));
    }

    fn fail(&mut self, path: &Path, why: String) {
        self.push(path, Outcome::Failed(why));
    }

    /// Handles one intent; true when it stays in the manifest.
    fn entry(
        &mut self,
        i: &Intent,
        run: Option<&RunHeader>,
        in_files: bool,
        mark: Option<&Record>,
    ) -> bool {
        let shown = unhex(&i.path_hex).map_or_else(
            || self.dir.join(MANIFEST),
            |b| PathBuf::from(OsString::from_vec(b)),
        );
        let place = match check_entry(i, run) {
            Ok(place) => place,
            Err(why) => {
                self.fail(
                    &shown,
                    format!("refused: {why}; it stays in the quarantine"),
                );
                return true;
            }
        };
        if !in_files {
            match mark {
                // The move failed and was recorded so: the file never left.
                Some(Record::Abandoned { .. }) => return false,
                Some(_) => {
                    self.fail(
                        &shown,
                        format!("{} is missing from the quarantine", shown_file(&i.file)),
                    );
                    return true;
                }
                None => {}
            }
            // Only the intent: the run stopped before or during the move.
            let in_place = self.walker.parent(&place, false).ok().is_some_and(|fd| {
                fstatat(&fd, place.name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                    .is_ok_and(|st| same_intent(&st, i))
            });
            if in_place {
                self.push(
                    &shown,
                    Outcome::Skipped(
                        "never moved (the run stopped before moving it): still in place".into(),
                    ),
                );
                return false;
            }
            self.fail(
                &shown,
                format!(
                    "neither in the quarantine ({}) nor in place",
                    shown_file(&i.file)
                ),
            );
            return true;
        }
        let parent = match self.walker.parent(&place, true) {
            Ok(fd) => fd,
            Err(why) => {
                self.fail(&shown, format!("{why}; it stays in the quarantine"));
                return true;
            }
        };
        let now = fstatat(
            &parent,
            place.name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        );
        if now.is_ok_and(|st| same_intent(&st, i)) {
            // Copied across filesystems but cut off before the original was unlinked.
            let _ = unlinkat(self.files, i.file.as_str(), UnlinkatFlags::NoRemoveDir);
            self.push(
                &shown,
                Outcome::Skipped(
                    "still in place (the move was cut off): its quarantined copy is dropped".into(),
                ),
            );
            return false;
        }
        let outcome = put_back(self.files, i, parent.as_fd(), &place.name);
        let keep = outcome != Outcome::Done;
        self.push(&shown, outcome);
        keep
    }
}

fn same_intent(st: &FileStat, i: &Intent) -> bool {
    let id = crate::actions::plan::Identity {
        dev: i.dev,
        ino: i.ino,
        size: i.size,
        mtime: i.mtime,
    };
    super::is_regular(st) && same_file(st, &id)
}

/// Moves `files/<file>` to `name` in `dir`, never replacing anything.
fn put_back(files: BorrowedFd<'_>, i: &Intent, dir: BorrowedFd<'_>, name: &OsStr) -> Outcome {
    let left = || format!("it stays in the quarantine as {}", shown_file(&i.file));
    match renameat2(
        files,
        i.file.as_str(),
        dir,
        name,
        RenameFlags::RENAME_NOREPLACE,
    ) {
        Ok(()) => Outcome::Done,
        Err(Errno::EEXIST) => Outcome::Failed(format!("a file exists there now: {}", left())),
        Err(Errno::EXDEV) => match copy_back(files, i, dir, name) {
            Ok(()) => Outcome::Done,
            Err(why) => Outcome::Failed(format!("{why}: {}", left())),
        },
        Err(e) => Outcome::Failed(format!("{}: {}", errno_text(e), left())),
    }
}

fn copy_back(
    files: BorrowedFd<'_>,
    i: &Intent,
    dir: BorrowedFd<'_>,
    name: &OsStr,
) -> Result<(), String> {
    let src = openat(
        files,
        i.file.as_str(),
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno_text)?;
    let name = name
        .to_str()
        .ok_or("only UTF-8 names are copied across filesystems")?;
    // The quarantined file carries the original's owner, mode and mtime.
    let st = fstat(&src).map_err(errno_text)?;
    let dst = copy_fd(
        src,
        dir,
        name,
        Mode::from_bits_truncate(st.st_mode & 0o7777),
    )?;
    let _ = fchown(
        &dst,
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    );
    let t = TimeSpec::new(st.st_mtime, 0);
    let _ = nix::sys::stat::futimens(&dst, &t, &t);
    dst.sync_all().map_err(|e| e.to_string())?;
    unlinkat(files, i.file.as_str(), UnlinkatFlags::NoRemoveDir).map_err(errno_text)
}
