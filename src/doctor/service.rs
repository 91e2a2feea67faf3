//! A unit's settings resolved into what the doctor needs: user, groups, working directory,
//! environment, the Python command, and the sandbox (systemd.exec(5)).

use super::DoctorError;
use super::access::{PathMode, PathRule, Sandbox};
use super::command::{self, DEFAULT_PATH, PythonCommand};
use super::syntax::{Specifiers, expand_env, split_words};
use super::unit::{Origin, UnitFile, parse_bool};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The settings of one service unit that matter for its caches.
#[derive(Debug, Clone, Default)]
pub struct Service {
    /// Unit name.
    pub name: String,
    /// `User=` (None: root), with its origin.
    pub user: Option<(String, Origin)>,
    /// `Group=`.
    pub group: Option<(String, Origin)>,
    /// `SupplementaryGroups=`.
    pub supplementary: Vec<(String, Origin)>,
    /// `DynamicUser=yes`.
    pub dynamic_user: Option<Origin>,
    /// `WorkingDirectory=` (made absolute; `~` is the user's home).
    pub working_dir: Option<(PathBuf, Origin)>,
    /// The environment with each variable's origin.
    pub env: BTreeMap<String, (String, Origin)>,
    /// The `ExecStart=` command, parsed.
    pub exec: Option<(PythonCommand, String, Origin)>,
    /// Mount rules from `ProtectSystem=`, `ProtectHome=`, `Read*Paths=` and the state
    /// directories.
    pub sandbox: Sandbox,
    /// Things the reader should know (missing environment files, odd values).
    pub notes: Vec<String>,
}

/// Resolves a loaded unit. `root` is the `--systemd-root` for environment files.
pub fn resolve(unit: &UnitFile, root: &Path) -> Result<Service, DoctorError> {
    let mut spec = Specifiers {
        unit: unit.name.clone(),
        user: None,
    };
    let mut svc = Service {
        name: unit.name.clone(),
        ..Service::default()
    };
    if let Some(e) = unit.last("User") {
        let name = spec.expand(&e.value).0;
        if let Ok(Some(u)) = nix::unistd::User::from_name(&name) {
            spec.user = Some((name.clone(), u.uid.as_raw(), u.dir.display().to_string()));
        }
        svc.user = Some((name, e.origin.clone()));
    }
    svc.group = unit
        .last("Group")
        .map(|e| (spec.expand(&e.value).0, e.origin.clone()));
    svc.supplementary = unit.words("SupplementaryGroups", &spec);
    svc.dynamic_user = unit.flag("DynamicUser").filter(|f| f.0).map(|f| f.1);
    if let Some(e) = unit.last("WorkingDirectory") {
        let raw = spec.expand(e.value.trim_start_matches('-')).0;
        let dir = if raw == "~" {
            spec.user
                .as_ref()
                .map_or(PathBuf::from("/root"), |u| PathBuf::from(&u.2))
        } else {
            PathBuf::from(raw)
        };
        svc.working_dir = Some((dir, e.origin.clone()));
    }
    let (env, problems) = unit.environment(&spec, root);
    svc.env = env;
    svc.notes.extend(problems);
    let execs = unit.list("ExecStart");
    if execs.len() > 1 {
        svc.notes.push(format!(
            "{} has {} ExecStart= lines; the last one is examined",
            unit.name,
            execs.len()
        ));
    }
    if let Some(e) = execs.last() {
        svc.exec = Some(exec_start(e.value.as_str(), &e.origin, &spec, &svc)?);
    }
    svc.sandbox = sandbox(unit, &spec, svc.dynamic_user.is_some());
    Ok(svc)
}

/// Parses `ExecStart=`: prefixes (`-`, `@`, `+`, `!`, `!!`, `:`, `|`), quoting, specifiers
/// and `$VAR` expansion, then the Python command line.
fn exec_start(
    value: &str,
    origin: &Origin,
    spec: &Specifiers,
    svc: &Service,
) -> Result<(PythonCommand, String, Origin), DoctorError> {
    let trimmed = value.trim_start_matches(['-', '@', '+', '!', ':', '|']);
    let argv0_given =
        value.len() > trimmed.len() && value[..value.len() - trimmed.len()].contains('@');
    let mut words = split_words(trimmed)
        .map_err(|e| DoctorError::new(format!("{origin}: cannot parse ExecStart=: {e}")))?;
    if argv0_given && words.len() > 1 {
        words.remove(1); // `@`: the second word is argv[0], not an argument
    }
    let env: BTreeMap<String, String> = svc
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    let words: Vec<String> = words
        .iter()
        .map(|w| expand_env(&spec.expand(w).0, &env))
        .collect();
    let path_var = env.get("PATH").map_or(DEFAULT_PATH, String::as_str);
    let cwd = svc.working_dir.as_ref().map(|w| w.0.as_path());
    let cmd = command::parse(&words, cwd, path_var);
    Ok((cmd, words.join(" "), origin.clone()))
}

fn sandbox(unit: &UnitFile, spec: &Specifiers, dynamic: bool) -> Sandbox {
    let mut rules = Vec::new();
    let mut add = |paths: &[&str], mode, why: &str| {
        for p in paths {
            rules.push(PathRule {
                path: PathBuf::from(p),
                mode,
                why: why.to_string(),
            });
        }
    };
    let protect = unit.last("ProtectSystem");
    let level = match protect.map(|e| e.value.to_ascii_lowercase()) {
        Some(v) if v == "strict" || v == "full" => v,
        Some(v) if parse_bool(&v) => "yes".into(),
        _ if dynamic => "strict".into(),
        _ => "no".into(),
    };
    let why = match protect {
        Some(e) => format!("ProtectSystem={} at {}", e.value, e.origin),
        None => "DynamicUser=yes implies ProtectSystem=strict".into(),
    };
    match level.as_str() {
        "strict" => {
            add(&["/"], PathMode::ReadOnly, &why);
            add(
                &["/dev", "/proc", "/sys"],
                PathMode::Writable,
                &format!("{why} (API filesystems stay writable)"),
            );
        }
        "full" => add(&["/usr", "/boot", "/efi", "/etc"], PathMode::ReadOnly, &why),
        "yes" => add(&["/usr", "/boot", "/efi"], PathMode::ReadOnly, &why),
        _ => {}
    }
    let home = unit
        .last("ProtectHome")
        .map(|e| (e.value.to_ascii_lowercase(), e.origin.clone()));
    let home_mode = match &home {
        Some((v, _)) if v == "read-only" || v == "tmpfs" => Some(PathMode::ReadOnly),
        Some((v, _)) if parse_bool(v) => Some(PathMode::Inaccessible),
        None if dynamic => Some(PathMode::ReadOnly),
        _ => None,
    };
    if let Some(mode) = home_mode {
        let why = home.map_or(
            "DynamicUser=yes implies ProtectHome=read-only".into(),
            |(v, o)| format!("ProtectHome={v} at {o}"),
        );
        add(&["/home", "/root", "/run/user"], mode, &why);
    }
    let private_tmp = dynamic || unit.flag("PrivateTmp").is_some_and(|f| f.0);
    if private_tmp && level == "strict" {
        add(
            &["/tmp", "/var/tmp"],
            PathMode::Writable,
            "PrivateTmp= gives the service its own /tmp",
        );
    }
    for (key, mode) in [
        ("ReadOnlyPaths", PathMode::ReadOnly),
        ("InaccessiblePaths", PathMode::Inaccessible),
        ("ReadWritePaths", PathMode::Writable),
    ] {
        for (p, origin) in unit.words(key, spec) {
            let p = p.trim_start_matches(['-', '+']).to_string();
            add(&[p.as_str()], mode, &format!("{key}={p} at {origin}"));
        }
    }
    for (key, base) in [
        ("StateDirectory", "/var/lib"),
        ("CacheDirectory", "/var/cache"),
        ("LogsDirectory", "/var/log"),
        ("RuntimeDirectory", "/run"),
    ] {
        for (name, origin) in unit.words(key, spec) {
            let name = name.split(':').next().unwrap_or_default();
            let path = Path::new(base).join(name).display().to_string();
            add(
                &[path.as_str()],
                PathMode::Writable,
                &format!("{key}={name} at {origin}"),
            );
        }
    }
    Sandbox { rules }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::unit::parse;

    fn unit(text: &str) -> UnitFile {
        UnitFile {
            name: "app.service".into(),
            path: "/u".into(),
            dropins: vec![],
            entries: parse(text, Path::new("/u")),
        }
    }

    #[test]
    fn exec_start_prefixes_and_variables() {
        let u = unit(
            "[Service]\nEnvironment=APP=/srv/app\nWorkingDirectory=-/srv/app\nExecStart=-@/usr/bin/python3 pyapp -B ${APP}/run.py\n",
        );
        let s = resolve(&u, Path::new("/")).unwrap();
        let (cmd, line, origin) = s.exec.unwrap();
        assert_eq!(line, "/usr/bin/python3 -B /srv/app/run.py");
        assert_eq!(origin.line, 4);
        assert!(cmd.dont_write);
        assert_eq!(cmd.script, Some(PathBuf::from("/srv/app/run.py")));
        assert_eq!(s.working_dir.unwrap().0, PathBuf::from("/srv/app"));
    }

    #[test]
    fn strict_sandbox_leaves_only_listed_paths_writable() {
        let u = unit(
            "[Service]\nProtectSystem=strict\nReadWritePaths=-/srv/app/instance\nCacheDirectory=app\nReadOnlyPaths=/srv/app/instance/ro\n",
        );
        let sb = resolve(&u, Path::new("/")).unwrap().sandbox;
        let mode = |p: &str| sb.rule_for(Path::new(p)).map(|r| r.mode);
        assert_eq!(mode("/srv/app/__pycache__"), Some(PathMode::ReadOnly));
        assert_eq!(mode("/srv/app/instance/tmp"), Some(PathMode::Writable));
        assert_eq!(mode("/srv/app/instance/ro/x"), Some(PathMode::ReadOnly));
        assert_eq!(mode("/var/cache/app/srv"), Some(PathMode::Writable));
        assert_eq!(mode("/proc/self"), Some(PathMode::Writable));
    }

    #[test]
    fn protect_system_levels_and_dynamic_user() {
        let sb = |t: &str| resolve(&unit(t), Path::new("/")).unwrap().sandbox;
        let full = sb("[Service]\nProtectSystem=full\n");
        assert!(full.rule_for(Path::new("/etc/x")).is_some());
        assert!(full.rule_for(Path::new("/srv/x")).is_none());
        let yes = sb("[Service]\nProtectSystem=true\n");
        assert!(yes.rule_for(Path::new("/etc/x")).is_none());
        assert!(yes.rule_for(Path::new("/usr/lib/x")).is_some());
        let dynamic = sb("[Service]\nDynamicUser=yes\n");
        assert_eq!(
            dynamic.rule_for(Path::new("/srv")).map(|r| r.mode),
            Some(PathMode::ReadOnly)
        );
        assert_eq!(
            dynamic.rule_for(Path::new("/tmp/x")).map(|r| r.mode),
            Some(PathMode::Writable)
        );
    }
}
