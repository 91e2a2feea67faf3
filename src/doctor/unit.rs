//! systemd service units: find the unit file and its drop-ins, parse them, and resolve
//! the settings that decide who runs Python, with which environment, in which sandbox.
//!
//! Search order and drop-in rules follow systemd.unit(5): the first unit file found in
//! the search path wins; `NAME.service.d/*.conf` drop-ins from every directory are applied
//! in file-name order, a name in a higher-priority directory masking the same name in a
//! lower one. List settings accumulate and an empty assignment resets them.

use super::DoctorError;
use super::syntax::{Specifiers, parse_env_file, split_words};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The unit search path of the system manager, highest priority first.
pub const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Where a setting came from: `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The unit file, drop-in or environment file.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", crate::text::display_path(&self.file), self.line)
    }
}

/// One `Key=value` line of a unit or drop-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Section name without brackets.
    pub section: String,
    /// Setting name.
    pub key: String,
    /// Raw value (after line continuation, before unquoting).
    pub value: String,
    /// Where it was written.
    pub origin: Origin,
}

/// A unit file and its drop-ins, parsed in the order systemd applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFile {
    /// Full unit name (`lernmanager.service`).
    pub name: String,
    /// The main unit file.
    pub path: PathBuf,
    /// Drop-ins, in the order applied.
    pub dropins: Vec<PathBuf>,
    /// Every assignment, main file first.
    pub entries: Vec<Entry>,
}

impl UnitFile {
    /// Loads a unit by name (`app` or `app.service`, searched in [`UNIT_DIRS`] under
    /// `root`) or by path (anything containing `/`; drop-ins are then also read from
    /// `FILE.d/` beside it).
    pub fn load(name_or_file: &str, root: &Path) -> Result<UnitFile, DoctorError> {
        let given = Path::new(name_or_file);
        let (name, path, beside) = if name_or_file.contains('/') {
            let name = file_name(given);
            (name, given.to_path_buf(), Some(dropin_dir(given)))
        } else {
            let name = if name_or_file.contains('.') {
                name_or_file.to_string()
            } else {
                format!("{name_or_file}.service")
            };
            let path = find_unit(&name, root).ok_or_else(|| {
                DoctorError::new(format!(
                    "no unit file for {name} in {} or the other unit directories; pass the unit file's path (systemctl cat {name} shows it), or --systemd-root",
                    search_path_text(root)
                ))
            })?;
            (name, path, None)
        };
        let mut unit = UnitFile {
            name: name.clone(),
            path: path.clone(),
            dropins: find_dropins(&name, root, beside.as_deref()),
            entries: Vec::new(),
        };
        if std::fs::canonicalize(&path).is_ok_and(|p| p == Path::new("/dev/null")) {
            return Err(DoctorError::new(format!(
                "{name} is masked ({} links to /dev/null)",
                crate::text::display_path(&path)
            )));
        }
        for file in std::iter::once(path).chain(unit.dropins.clone()) {
            let text = crate::fsread::read_string_capped(&file, crate::fsread::CONFIG_CAP)
                .map_err(|e| {
                    DoctorError::new(format!(
                        "cannot read unit file {}: {}; pass a unit name or an existing unit file",
                        crate::text::display_path(&file),
                        crate::imports::io_reason(&e)
                    ))
                })?;
            unit.entries.extend(parse(&text, &file));
        }
        // Anything else read as a unit (a .timer, a .socket, /etc/passwd) would be judged
        // as a service with no settings: root, no command, the guessed interpreter.
        if !unit.entries.iter().any(|e| e.section == "Service") {
            return Err(DoctorError::new(format!(
                "{} is not a service unit: it has no [Service] settings; pass the .service file that starts the code (systemctl cat NAME.service shows it)",
                crate::text::display_path(&unit.path)
            )));
        }
        Ok(unit)
    }

    /// The last value of a single-valued `[Service]` setting (empty means unset).
    pub fn last(&self, key: &str) -> Option<&Entry> {
        self.service(key).pop().filter(|e| !e.value.is_empty())
    }

    /// A list setting: the entries after its last empty assignment.
    pub fn list(&self, key: &str) -> Vec<&Entry> {
        let all = self.service(key);
        let start = all
            .iter()
            .rposition(|e| e.value.is_empty())
            .map_or(0, |i| i + 1);
        all[start..].to_vec()
    }

    fn service(&self, key: &str) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.section == "Service" && e.key == key)
            .collect()
    }

    /// Words of a list setting, each with its origin and specifiers expanded.
    pub fn words(&self, key: &str, spec: &Specifiers) -> Vec<(String, Origin)> {
        let mut out = Vec::new();
        for e in self.list(key) {
            for w in split_words(&e.value).unwrap_or_default() {
                out.push((spec.expand(&w).0, e.origin.clone()));
            }
        }
        out
    }

    /// A boolean setting (systemd accepts 1/yes/y/true/t/on).
    pub fn flag(&self, key: &str) -> Option<(bool, Origin)> {
        self.last(key)
            .map(|e| (parse_bool(&e.value), e.origin.clone()))
    }

    /// The environment: `Environment=` assignments, then `EnvironmentFile=` files (which
    /// override them, systemd.exec(5)). Problems (a missing file without `-`) are returned.
    pub fn environment(
        &self,
        spec: &Specifiers,
        root: &Path,
    ) -> (BTreeMap<String, (String, Origin)>, Vec<String>) {
        let mut env = BTreeMap::new();
        let mut problems = Vec::new();
        for e in self.list("Environment") {
            match split_words(&e.value) {
                Ok(words) => {
                    for w in words {
                        let w = spec.expand(&w).0;
                        match w.split_once('=') {
                            Some((k, v)) => {
                                env.insert(k.to_string(), (v.to_string(), e.origin.clone()));
                            }
                            None => problems.push(format!("{}: not an assignment: {w}", e.origin)),
                        }
                    }
                }
                Err(err) => problems.push(format!("{}: {err}", e.origin)),
            }
        }
        for (file, origin) in self.words("EnvironmentFile", spec) {
            let (optional, file) = match file.strip_prefix('-') {
                Some(f) => (true, f.to_string()),
                None => (false, file),
            };
            let path = under_root(root, Path::new(&file));
            match crate::fsread::read_string_capped(&path, crate::fsread::CONFIG_CAP) {
                Ok(text) => {
                    let parsed = parse_env_file(&text);
                    for (line, k, v) in parsed.vars {
                        let at = Origin { file: path.clone(), line };
                        env.insert(k, (v, at));
                    }
                    // The text itself is not echoed: environment files hold secrets.
                    for line in parsed.bad_lines {
                        problems.push(format!("{}:{line}: not a KEY=VALUE line, ignored", crate::text::display_path(&path)));
                    }
                }
                Err(_) if optional => {}
                Err(err) => problems.push(format!(
                    "{origin}: EnvironmentFile={file} cannot be read ({err}): systemd refuses to start the service"
                )),
            }
        }
        (env, problems)
    }
}

/// Parses unit text into entries (sections, continuations, comments).
pub fn parse(text: &str, file: &Path) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut section = String::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if pending.is_some() && (line.starts_with('#') || line.starts_with(';')) {
            continue;
        }
        let (start, mut joined) = pending.take().unwrap_or((i + 1, String::new()));
        if let Some(cont) = line.strip_suffix('\\') {
            joined.push_str(cont.trim_end());
            joined.push(' ');
            pending = Some((start, joined));
            continue;
        }
        joined.push_str(line);
        let line = joined.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((k, v)) = line.split_once('=') {
            entries.push(Entry {
                section: section.clone(),
                key: k.trim().to_string(),
                value: v.trim().to_string(),
                origin: Origin {
                    file: file.to_path_buf(),
                    line: start,
                },
            });
        }
    }
    entries
}

/// systemd's boolean words.
pub fn parse_bool(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "1" | "yes" | "y" | "true" | "t" | "on"
    )
}

/// `path` as seen under an alternative root (`systemctl --root` semantics).
pub fn under_root(root: &Path, path: &Path) -> PathBuf {
    match path.strip_prefix("/") {
        Ok(rel) if root != Path::new("/") => root.join(rel),
        _ => path.to_path_buf(),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn dropin_dir(unit_file: &Path) -> PathBuf {
    let mut s = unit_file.as_os_str().to_os_string();
    s.push(".d");
    PathBuf::from(s)
}

/// `web@blue.service` is also configured by `web@.service` and its drop-ins.
fn template_of(name: &str) -> Option<String> {
    let (head, suffix) = name.rsplit_once('.')?;
    let (prefix, instance) = head.split_once('@')?;
    (!instance.is_empty()).then(|| format!("{prefix}@.{suffix}"))
}

fn find_unit(name: &str, root: &Path) -> Option<PathBuf> {
    let names = std::iter::once(name.to_string()).chain(template_of(name));
    for n in names {
        for dir in UNIT_DIRS {
            let p = under_root(root, Path::new(dir)).join(&n);
            if p.exists() || p.is_symlink() {
                return Some(p);
            }
        }
    }
    None
}

fn find_dropins(name: &str, root: &Path, beside: Option<&Path>) -> Vec<PathBuf> {
    let suffix = name.rsplit_once('.').map_or("service", |(_, s)| s);
    // Within one directory the unit's own drop-ins win over the template's and the
    // type-wide `service.d/`.
    let mut dir_names = vec![format!("{name}.d")];
    dir_names.extend(template_of(name).map(|t| format!("{t}.d")));
    dir_names.push(format!("{suffix}.d"));
    let mut dirs: Vec<PathBuf> = beside.map(Path::to_path_buf).into_iter().collect();
    for dir in UNIT_DIRS {
        for d in &dir_names {
            dirs.push(under_root(root, Path::new(dir)).join(d));
        }
    }
    // Highest priority first: the first directory holding a file name keeps it.
    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in dirs {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = read.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let n = file_name(&f);
            if n.ends_with(".conf") && f.is_file() {
                by_name.entry(n).or_insert(f);
            }
        }
    }
    by_name.into_values().collect()
}

/// The two directories units usually live in (the whole search path makes a long line).
fn search_path_text(root: &Path) -> String {
    let dirs: Vec<String> = ["/etc/systemd/system", "/usr/lib/systemd/system"]
        .iter()
        .map(|d| under_root(root, Path::new(d)).display().to_string())
        .collect();
    dirs.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_handles_sections_comments_and_continuations() {
        let text = "[Unit]\nDescription=x\n# c\n[Service]\nExecStart=/usr/bin/python3 \\\n  # skipped\n  /srv/run.py\n; c\nUser = app\n";
        let e = parse(text, Path::new("/u"));
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].value, "/usr/bin/python3 /srv/run.py");
        assert_eq!((e[1].origin.line, e[2].key.as_str()), (5, "User"));
    }

    #[test]
    fn lists_reset_on_empty_assignment() {
        let text =
            "[Service]\nReadWritePaths=/a\nReadWritePaths=\nReadWritePaths=/b /c\nUser=x\nUser=\n";
        let unit = UnitFile {
            name: "t.service".into(),
            path: "/u".into(),
            dropins: vec![],
            entries: parse(text, Path::new("/u")),
        };
        let spec = Specifiers::default();
        let words: Vec<String> = unit
            .words("ReadWritePaths", &spec)
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(words, ["/b", "/c"]);
        assert!(unit.last("User").is_none());
    }

    #[test]
    fn templates_and_roots() {
        assert_eq!(
            template_of("web@blue.service").as_deref(),
            Some("web@.service")
        );
        assert_eq!(template_of("web.service"), None);
        assert_eq!(
            under_root(Path::new("/t"), Path::new("/etc/x")),
            PathBuf::from("/t/etc/x")
        );
        assert!(parse_bool("Yes") && !parse_bool("no"));
    }
}
