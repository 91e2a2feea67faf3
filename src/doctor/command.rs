//! A Python command line (`ExecStart=` or `/proc/PID/cmdline`): which interpreter runs,
//! with which cache-relevant options (`-B`, `-O`, `-E`/`-I`, `-X pycache_prefix=`), and
//! which script or module it starts. Follows `env` and `#!` lines to the interpreter.

use std::path::{Path, PathBuf};

/// systemd's default `PATH` for services.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a command line tells about the Python it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PythonCommand {
    /// The interpreter (resolved through `PATH` and `#!` lines), when one was found.
    pub interpreter: Option<PathBuf>,
    /// How the interpreter was found ("first word", "#! of FILE", "env python3").
    pub interpreter_via: String,
    /// `-B`: do not write bytecode.
    pub dont_write: bool,
    /// `-X pycache_prefix=DIR`.
    pub prefix: Option<String>,
    /// Count of `-O`.
    pub optimize: u8,
    /// `-E` or `-I`: the `PYTHON*` environment variables are ignored.
    pub ignore_env: bool,
    /// The script file started (a `.py`, or the console script found through `#!`).
    pub script: Option<PathBuf>,
    /// `-m MODULE`.
    pub module: Option<String>,
    /// `VAR=value` words given to `env` before the command.
    pub env_assignments: Vec<(String, String)>,
    /// Every `-X` option, in order (`lazy_imports=all`, ...).
    pub x_options: Vec<String>,
    /// `--check-hash-based-pycs MODE`.
    pub check_hash: Option<crate::pyc::HashCheck>,
}

/// True for names like `python`, `python3`, `python3.13`, `python3.13t`, `pypy3`.
pub fn is_python_name(name: &str) -> bool {
    let rest = name
        .strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"));
    rest.is_some_and(|r| {
        r.trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
    })
}

/// Finds a bare command name in `PATH`.
pub fn which(name: &str, path_var: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// Parses a command line. `cwd` resolves a relative script; `path_var` finds bare names.
pub fn parse(argv: &[String], cwd: Option<&Path>, path_var: &str) -> PythonCommand {
    let mut cmd = PythonCommand::default();
    let mut args: Vec<String> = argv.to_vec();
    if args.first().is_some_and(|a| base(a) == "env") {
        args = strip_env(&args[1..], &mut cmd);
    }
    let Some(first) = args.first().cloned() else {
        return cmd;
    };
    if is_python_name(&base(&first)) {
        cmd.interpreter = which(&first, path_var);
        cmd.interpreter_via = "the command's first word".into();
        python_options(&args[1..], &mut cmd, cwd);
        return cmd;
    }
    // A script or console script: its #! line names the interpreter.
    let file = which(&first, path_var).unwrap_or_else(|| PathBuf::from(&first));
    let file = absolute(&file, cwd);
    let Some(shebang) = read_shebang(&file) else {
        return cmd;
    };
    let mut words: Vec<String> = shebang.split_whitespace().map(String::from).collect();
    if words.first().is_some_and(|w| base(w) == "env") {
        words = strip_env(&words[1..], &mut cmd);
    } else if words.len() > 2 {
        // Linux passes everything after the interpreter as one argument.
        let rest = words[1..].join(" ");
        words.truncate(1);
        words.push(rest);
    }
    if let Some(interp) = words.first().filter(|w| is_python_name(&base(w))) {
        cmd.interpreter = which(interp, path_var);
        cmd.interpreter_via = format!("the #! line of {}", file.display());
        let mut opts = words[1..].to_vec();
        opts.push("--".into());
        opts.push(file.display().to_string());
        python_options(&opts, &mut cmd, cwd);
    }
    cmd
}

fn base(word: &str) -> String {
    Path::new(word)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `p` against `cwd` when it is relative (no symlink resolution, as Python does).
pub(crate) fn absolute(p: &Path, cwd: Option<&Path>) -> PathBuf {
    match cwd {
        Some(c) if p.is_relative() => c.join(p),
        _ => p.to_path_buf(),
    }
}

/// Skips `env`'s options and collects its `VAR=value` words.
fn strip_env(args: &[String], cmd: &mut PythonCommand) -> Vec<String> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "-i" | "--ignore-environment" | "-" => i += 1,
            "-u" | "--unset" | "-C" | "--chdir" => i += 2,
            "--" => {
                i += 1;
                break;
            }
            "-S" | "--split-string" => {
                let mut split: Vec<String> = args
                    .get(i + 1)
                    .map(|s| s.split_whitespace().map(String::from).collect())
                    .unwrap_or_default();
                split.extend(args.iter().skip(i + 2).cloned());
                return strip_env(&split, cmd);
            }
            s if s.contains('=') && !s.starts_with('-') => {
                if let Some((k, v)) = s.split_once('=') {
                    cmd.env_assignments.push((k.into(), v.into()));
                }
                i += 1;
            }
            s if s.starts_with('-') => i += 1,
            _ => break,
        }
    }
    args[i.min(args.len())..].to_vec()
}

/// Python's own options up to the script, `-m` or `-c`.
fn python_options(args: &[String], cmd: &mut PythonCommand, cwd: Option<&Path>) {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            if let Some(script) = args.get(i) {
                cmd.script = Some(absolute(Path::new(script), cwd));
            }
            return;
        }
        if arg == "--check-hash-based-pycs" {
            cmd.check_hash = args.get(i).and_then(|m| crate::pyc::HashCheck::parse(m));
            i += 1;
            continue;
        }
        if arg.starts_with("--") {
            continue;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            cmd.script = Some(absolute(Path::new(arg), cwd));
            return;
        };
        for (at, c) in cluster.char_indices() {
            let attached = &cluster[at + c.len_utf8()..];
            match c {
                'B' => cmd.dont_write = true,
                'O' => cmd.optimize += 1,
                'E' | 'I' => cmd.ignore_env = true,
                'X' | 'W' | 'm' | 'c' => {
                    let value = if attached.is_empty() {
                        i += 1;
                        args.get(i - 1).cloned().unwrap_or_default()
                    } else {
                        attached.to_string()
                    };
                    match c {
                        'X' => {
                            if let Some(p) = value.strip_prefix("pycache_prefix=") {
                                cmd.prefix = Some(p.to_string());
                            }
                            cmd.x_options.push(value);
                        }
                        'm' => {
                            cmd.module = Some(value);
                            return;
                        }
                        'c' => return,
                        _ => {}
                    }
                    break;
                }
                _ => {}
            }
        }
    }
}

fn read_shebang(file: &Path) -> Option<String> {
    // Only a regular file is read (a FIFO named in ExecStart must not hang doctor).
    let mut buf = [0u8; 256];
    let (fd, _) = crate::fsread::open_regular(file, true).ok()?;
    let n = crate::fsread::read_up_to(std::os::fd::AsFd::as_fd(&fd), &mut buf).ok()?;
    let head = buf.get(..n)?.strip_prefix(b"#!")?;
    let line = head.split(|&b| b == b'\n').next()?;
    Some(String::from_utf8_lossy(line).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn python_names() {
        for n in [
            "python",
            "python3",
            "python3.13",
            "python3.13t",
            "pypy3",
            "pypy",
        ] {
            assert!(is_python_name(n), "{n}");
        }
        for n in ["gunicorn", "pythonista-x", "env", "py"] {
            assert!(!is_python_name(n), "{n}");
        }
    }

    #[test]
    fn options_before_the_script_are_understood() {
        let c = parse(
            &argv("/usr/bin/python3 -OB -X pycache_prefix=/c -u run.py --port 1"),
            Some(Path::new("/srv/app")),
            DEFAULT_PATH,
        );
        assert_eq!(c.interpreter, Some(PathBuf::from("/usr/bin/python3")));
        assert!(c.dont_write && !c.ignore_env);
        assert_eq!((c.optimize, c.prefix.as_deref()), (1, Some("/c")));
        assert_eq!(c.script, Some(PathBuf::from("/srv/app/run.py")));
        let c = parse(
            &argv("/usr/bin/python3 -I -Xpycache_prefix=p -m app.main"),
            None,
            "",
        );
        assert!(c.ignore_env);
        assert_eq!(
            (c.prefix.as_deref(), c.module.as_deref()),
            (Some("p"), Some("app.main"))
        );
        assert_eq!(c.script, None);
    }

    #[test]
    fn env_and_shebangs_lead_to_the_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        let py = dir.path().join("python3");
        std::fs::write(&py, "").unwrap();
        let script = dir.path().join("serve");
        std::fs::write(&script, "#!/usr/bin/env -S python3 -B\nimport app\n").unwrap();
        let path_var = dir.path().display().to_string();
        let c = parse(&[script.display().to_string()], None, &path_var);
        assert_eq!(c.interpreter.as_ref(), Some(&py));
        assert!(c.dont_write);
        assert_eq!(c.script.as_ref(), Some(&script));
        let c = parse(
            &argv("/usr/bin/env PYTHONDONTWRITEBYTECODE=1 python3 x.py"),
            None,
            &path_var,
        );
        assert_eq!(c.interpreter.as_ref(), Some(&py));
        assert_eq!(
            c.env_assignments,
            [("PYTHONDONTWRITEBYTECODE".into(), "1".into())]
        );
        let plain = dir.path().join("tool");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        assert_eq!(
            parse(&[plain.display().to_string()], None, "").interpreter,
            None
        );
    }
}
