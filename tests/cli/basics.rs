//! What every user meets first: --version, --help of every subcommand, completions and
//! the man page, colour rules (NO_COLOR, --color, terminals and pipes), one-line errors
//! whatever RUST_BACKTRACE says, exit codes, quiet broken pipes, and `--from` snapshots.

use crate::support::{pycache, skip, write};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// Every subcommand, and "" for the explorer (the top level).
const COMMANDS: [&str; 10] = [
    "",
    "scan",
    "demo",
    "inspect",
    "completions",
    "man",
    "imports",
    "doctor",
    "clean",
    "recompile",
];

fn stdout(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn demo(dir: &Path) -> pycache::demo::DemoInfo {
    pycache::demo::write(dir).unwrap()
}

#[test]
fn version_names_the_release_and_the_pythons_it_reads() {
    let text = stdout(pycache().arg("--version"));
    let first = text.lines().next().unwrap();
    assert_eq!(first, format!("pycache {}", env!("CARGO_PKG_VERSION")));
    for v in ["3.14", "3.13", "3.8", "2.7", "PyPy"] {
        assert!(text.contains(v), "{v} missing in {text}");
    }
}

#[test]
fn every_help_has_a_purpose_grouped_options_examples_and_the_exit_status() {
    for name in COMMANDS {
        let mut cmd = pycache();
        if !name.is_empty() {
            cmd.arg(name);
        }
        let out = cmd.arg("--help").output().unwrap();
        assert!(out.status.success(), "{name} --help failed");
        let text = String::from_utf8(out.stdout).unwrap();
        let purpose = text.lines().next().unwrap();
        assert!(
            purpose.len() > 20 && !purpose.starts_with("Usage"),
            "{name}: no purpose line in\n{text}"
        );
        assert!(
            text.contains("\nOutput:\n"),
            "{name}: no Output group in\n{text}"
        );
        assert!(
            text.contains("\nExamples:\n"),
            "{name}: no examples in\n{text}"
        );
        let examples = text
            .lines()
            .filter(|l| l.trim_start().starts_with("pycache "))
            .count();
        assert!(
            examples >= 2,
            "{name}: {examples} example commands in\n{text}"
        );
        assert!(
            text.contains("Exit status:"),
            "{name}: no exit status in\n{text}"
        );
    }
}

#[test]
fn the_seed_situations_are_in_the_top_level_examples() {
    let text = stdout(pycache().arg("--help"));
    for words in [
        "Why does my service recompile on every start?",
        "pycache doctor --unit",
        "Remove the caches of the old interpreter",
        "pycache clean --tag cpython-311",
        "Inspect one file",
        "pycache --from",
    ] {
        assert!(text.contains(words), "{words:?} missing in\n{text}");
    }
}

#[test]
fn completions_exist_for_every_shell_and_bash_parses_them() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = pycache().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for word in ["pycache", "inspect", "recompile", "pycache-prefix"] {
            assert!(text.contains(word), "{shell}: {word} missing");
        }
        let file = tmp.path().join(format!("pycache.{shell}"));
        write(&file, &text);
        // Each shell's own syntax check, where that shell is installed.
        let check = match shell {
            "bash" => Some(("bash", vec!["-n"])),
            "zsh" => Some(("zsh", vec!["-n"])),
            "fish" => Some(("fish", vec!["--no-execute"])),
            _ => None,
        };
        let Some((prog, args)) = check else { continue };
        match Command::new(prog).args(&args).arg(&file).output() {
            Ok(o) => assert!(
                o.status.success(),
                "{prog} rejects the completions: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(_) if shell == "bash" => panic!("bash is needed to check the completions"),
            Err(_) => skip("completions syntax", &format!("{prog} not installed")),
        }
    }
}

#[test]
fn the_man_page_renders() {
    let out = pycache().arg("man").output().unwrap();
    assert!(out.status.success());
    let roff = String::from_utf8(out.stdout).unwrap();
    assert!(
        roff.starts_with(".ie") || roff.contains(".TH pycache"),
        "{roff}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("pycache.1");
    write(&file, &roff);
    let rendered = Command::new("groff")
        // -P-cbou: plain text, no overstriking, so words can be searched for.
        .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
        .arg(&file)
        .output()
        .or_else(|_| {
            Command::new("man")
                .arg("-l")
                .arg(&file)
                .env("MANPAGER", "cat")
                .output()
        });
    let Ok(rendered) = rendered else {
        skip("the man page renders", "neither groff nor man is installed");
        return;
    };
    assert!(rendered.status.success());
    let text = String::from_utf8_lossy(&rendered.stdout);
    for words in ["SYNOPSIS", "scan", "clean", "--color", "Exit status"] {
        assert!(text.contains(words), "{words} missing in\n{text}");
    }
    let warnings = String::from_utf8_lossy(&rendered.stderr);
    assert!(warnings.trim().is_empty(), "groff warns: {warnings}");
}

fn has_escape(bytes: &[u8]) -> bool {
    bytes.contains(&0x1b)
}

#[test]
fn pipes_get_no_colour_unless_asked_and_always_colours() {
    let tmp = tempfile::tempdir().unwrap();
    let info = demo(&tmp.path().join("demo"));
    let root = info.root.to_str().unwrap();
    let missing = tmp.path().join("missing");
    for color in [None, Some("auto"), Some("never")] {
        let mut ok = pycache();
        ok.env_remove("NO_COLOR").args(["scan", root]);
        let mut bad = pycache();
        bad.env_remove("NO_COLOR").arg("scan").arg(&missing);
        let mut help = pycache();
        help.env_remove("NO_COLOR").arg("--help");
        for cmd in [&mut ok, &mut bad, &mut help] {
            if let Some(c) = color {
                cmd.args(["--color", c]);
            }
            let out = cmd.output().unwrap();
            assert!(!has_escape(&out.stdout), "{color:?}: escape on stdout");
            assert!(!has_escape(&out.stderr), "{color:?}: escape on stderr");
        }
    }
    // Asked for, colour reaches pipes, even with NO_COLOR set (the flag is explicit).
    let out = pycache()
        .args(["--color", "always", "scan", root])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\x1b[33mstale\x1b[0m"), "{text}");
    let out = pycache()
        .args(["scan", "--color=always"])
        .arg(&missing)
        .output()
        .unwrap();
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("\x1b[1;31merror\x1b[0m: ")
    );
    let out = pycache()
        .args(["--color", "always", "scan", "--help"])
        .output()
        .unwrap();
    assert!(
        has_escape(&out.stdout),
        "clap's help ignores --color always"
    );
}

/// Runs pycache in a pseudo-terminal and returns everything it wrote there.
fn in_terminal(args: &[&str], no_color: bool) -> Vec<u8> {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 50,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_pycache"));
    cmd.args(args);
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("NO_COLOR");
    cmd.env_remove("CLICOLOR_FORCE");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    // Read while it runs (a full terminal buffer would block it); EOF or EIO ends it.
    let output = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    let status = child.wait().unwrap();
    assert!(status.success(), "{args:?} failed in a terminal");
    let out = output.join().unwrap();
    drop(pty.master);
    out
}

#[test]
fn a_terminal_gets_colour_unless_no_color_is_set() {
    let tmp = tempfile::tempdir().unwrap();
    let info = demo(&tmp.path().join("demo"));
    let root = info.root.to_str().unwrap();
    let coloured = String::from_utf8_lossy(&in_terminal(&["scan", root], false)).into_owned();
    assert!(coloured.contains("\x1b[33mstale"), "{coloured:?}");
    let plain = in_terminal(&["scan", root], true);
    assert!(!has_escape(&plain), "{:?}", String::from_utf8_lossy(&plain));
    let help = in_terminal(&["--help"], true);
    assert!(!has_escape(&help), "clap's help ignores NO_COLOR");
}

#[test]
fn user_errors_are_one_line_whatever_rust_backtrace_says() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    for bt in ["1", "full"] {
        for args in [
            vec!["scan".to_string(), missing.display().to_string()],
            vec!["--from".to_string(), missing.display().to_string()],
            vec!["inspect".to_string(), missing.display().to_string()],
        ] {
            let out = pycache()
                .env("RUST_BACKTRACE", bt)
                .env("RUST_LIB_BACKTRACE", bt)
                .args(&args)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            let err = String::from_utf8(out.stderr).unwrap();
            assert_eq!(
                err.lines().count(),
                1,
                "RUST_BACKTRACE={bt} {args:?}:\n{err}"
            );
            assert!(err.starts_with("error: "), "{err}");
            assert!(
                !err.contains("acktrace") && !err.contains("Location"),
                "{err}"
            );
        }
    }
}

#[test]
fn exit_codes_are_0_fine_1_findings_2_usage_or_io() {
    let tmp = tempfile::tempdir().unwrap();
    let info = demo(&tmp.path().join("demo"));
    let clean = tmp.path().join("clean");
    write(&clean.join("app.py"), "x = 1\n");
    let code = |args: &[&str]| pycache().args(args).output().unwrap().status.code();
    let root = info.root.to_str().unwrap();
    assert_eq!(code(&["scan", clean.to_str().unwrap(), "--check"]), Some(0));
    assert_eq!(code(&["scan", root]), Some(0));
    assert_eq!(code(&["scan", root, "--check"]), Some(1));
    let stale = info.root.join("__pycache__/config.cpython-313.pyc");
    assert_eq!(code(&["inspect", stale.to_str().unwrap()]), Some(1));
    assert_eq!(code(&["scan", "--frobnicate"]), Some(2));
    assert_eq!(code(&["scan", &format!("{root}/nowhere")]), Some(2));
    assert_eq!(code(&["completions", "tcsh"]), Some(2));
    // Explorer arguments before a subcommand would be ignored: refused instead.
    assert_eq!(code(&[root, "scan"]), Some(2));
    assert_eq!(code(&["--read-only", "clean", root]), Some(2));
    // --color goes anywhere.
    assert_eq!(code(&["--color", "never", "scan", root]), Some(0));
    // The explorer without a terminal says what to run instead.
    let out = pycache().arg(root).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("needs a terminal") && err.contains("pycache scan"),
        "{err}"
    );
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let info = demo(&tmp.path().join("demo"));
    // Enough caches that `scan --json` overflows the pipe's buffer after the first line.
    let big = tmp.path().join("big");
    let pyc = std::fs::read(info.root.join("__pycache__/config.cpython-313.pyc")).unwrap();
    for i in 0..400 {
        write(
            &big.join(format!("__pycache__/gone_{i}.cpython-313.pyc")),
            &pyc,
        );
    }
    let root = info.root.to_str().unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["scan", "--json", big.to_str().unwrap()],
        vec!["scan", root],
        vec!["demo", root, "--print"],
        vec!["--help"],
        vec!["man"],
        vec!["completions", "zsh"],
    ];
    for args in runs {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pycache"))
            .args(&args)
            .env_remove("RUST_BACKTRACE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Like `| head -1`: read one line, then close the pipe.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            first.push(byte[0]);
        }
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!first.is_empty(), "{args:?} printed nothing");
        assert!(err.is_empty(), "{args:?} complained: {err}");
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{args:?}: {:?}",
            out.status
        );
    }
}

#[test]
fn a_bad_snapshot_is_one_clear_line() {
    let tmp = tempfile::tempdir().unwrap();
    let garbage = tmp.path().join("garbage.json");
    write(&garbage, "<html>not json</html>");
    let other = tmp.path().join("other.json");
    write(&other, r#"{"name": "something else"}"#);
    let binary = tmp.path().join("binary.json");
    write(&binary, [0xff, 0xfe, 0x00]);
    let cases = [
        (tmp.path().join("missing.json"), "no such file"),
        (garbage, "not a pycache scan snapshot"),
        (other, "not a pycache scan snapshot"),
        (binary, "not a pycache scan snapshot"),
        (tmp.path().to_path_buf(), "is a directory"),
    ];
    for (file, why) in cases {
        let out = pycache().arg("--from").arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("error: cannot open snapshot {}: ", file.display())),
            "{err}"
        );
        assert!(err.contains(why), "{why:?} missing in {err}");
    }
    // A good snapshot gets as far as asking for a terminal.
    let info = demo(&tmp.path().join("demo"));
    let json = stdout(pycache().args(["scan", "--json", info.root.to_str().unwrap()]));
    let good = tmp.path().join("good.json");
    write(&good, json);
    let out = pycache().arg("--from").arg(&good).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("the explorer needs a terminal"), "{err}");
    let out = pycache()
        .arg("--from")
        .arg(&good)
        .arg(&info.root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "--from and PATH together");
}

#[test]
fn piped_scans_draw_no_progress() {
    let tmp = tempfile::tempdir().unwrap();
    let info = demo(&tmp.path().join("demo"));
    let out = pycache()
        .args(["scan", info.root.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
