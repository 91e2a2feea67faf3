//! `pycache scan --from FILE...`: saved snapshots (plain, gzip, zstd, stdin) read together,
//! one tree per host; each host's summary equals the summary of a scan of its tree, with
//! the host and time its snapshot records; `--check` over all; bad input is one line.

use crate::support::{pycache, write};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

fn run(args: &[&std::ffi::OsStr], stdin: Option<Vec<u8>>) -> (i32, String, String) {
    let mut cmd = pycache();
    cmd.arg("scan").args(args).timeout(Duration::from_secs(60));
    if let Some(bytes) = stdin {
        cmd.write_stdin(bytes);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Two trees: `red` with an orphaned cache, `green` with a source only.
fn trees(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let red = dir.join("red");
    let green = dir.join("green");
    write(&red.join("a.py"), "x = 1\n");
    write(
        &red.join("__pycache__/gone.cpython-313.pyc"),
        b"\xf3\x0d\x0d\x0a\0\0\0\0\0\0\0\0\0\0\0\0",
    );
    write(&green.join("b.py"), "y = 2\n");
    (red, green)
}

fn without_time(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("time");
    v
}

#[test]
fn several_snapshots_read_as_one_tree_per_host() {
    let tmp = tempfile::tempdir().unwrap();
    let (red, green) = trees(tmp.path());
    let snap = |root: &Path| run(&["--json".as_ref(), root.as_os_str()], None).1;
    let red_json = snap(&red);
    let green_json = snap(&green);
    let red_file = tmp.path().join("red.json");
    std::fs::write(&red_file, &red_json).unwrap();
    let green_zst = tmp.path().join("green.json.zst");
    std::fs::write(
        &green_zst,
        zstd::encode_all(green_json.as_bytes(), 3).unwrap(),
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, red_json.as_bytes()).unwrap();
    let red_gz = gz.finish().unwrap();

    let summary_of = |root: &Path| -> Value {
        serde_json::from_str(
            &run(
                &[root.as_os_str(), "--summary".as_ref(), "--json".as_ref()],
                None,
            )
            .1,
        )
        .unwrap()
    };
    let header: Value = serde_json::from_str(&red_json).unwrap();
    let (code, out, err) = run(
        &[
            "--from".as_ref(),
            red_file.as_os_str(),
            "--from".as_ref(),
            green_zst.as_os_str(),
            "--summary".as_ref(),
            "--json".as_ref(),
            "--check".as_ref(),
        ],
        None,
    );
    assert_eq!(code, 1, "red has an orphan: {err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "one summary per host: {out}");
    assert_eq!(lines[0]["host"], header["host"]);
    assert_eq!(
        lines[0]["time"], header["time"],
        "the snapshot's time, not now"
    );
    assert_eq!(
        without_time(lines[0].clone()),
        without_time(summary_of(&red))
    );
    assert_eq!(
        without_time(lines[1].clone()),
        without_time(summary_of(&green))
    );
    assert_eq!(lines[0]["problems"], 1);
    assert_eq!(lines[1]["problems"], 0);

    // The same snapshot from stdin, gzip-compressed, gives the same summary.
    let (code, out, err) = run(
        &[
            "--from".as_ref(),
            "-".as_ref(),
            "--summary".as_ref(),
            "--json".as_ref(),
        ],
        Some(red_gz),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), lines[0]);
    let (code, _, _) = run(
        &["--from".as_ref(), green_zst.as_os_str(), "--check".as_ref()],
        None,
    );
    assert_eq!(code, 0, "green alone passes --check");

    // Text: each host under its name and file, then one line for the fleet.
    let (code, out, _) = run(
        &[
            "--from".as_ref(),
            red_file.as_os_str(),
            "--from".as_ref(),
            green_zst.as_os_str(),
        ],
        None,
    );
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("host ")).count(),
        2,
        "{out}"
    );
    assert!(out.contains("green.json.zst"), "{out}");
    // Both snapshots come from this machine: the red one is named with its file.
    assert!(
        out.trim_end().ends_with(&format!(
            "2 hosts: 1 with problem caches: {} ({})",
            header["host"].as_str().unwrap(),
            red_file.display()
        )),
        "{out}"
    );
    // --jsonl: every cache of every host.
    let (_, out, _) = run(
        &[
            "--from".as_ref(),
            red_file.as_os_str(),
            "--from".as_ref(),
            green_zst.as_os_str(),
            "--jsonl".as_ref(),
        ],
        None,
    );
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn bad_from_input_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (red, _) = trees(tmp.path());
    let file = tmp.path().join("red.json");
    std::fs::write(&file, run(&["--json".as_ref(), red.as_os_str()], None).1).unwrap();
    let f = file.as_os_str();
    let nope = tmp.path().join("nope.json");
    let cases: Vec<(Vec<&std::ffi::OsStr>, &str)> = vec![
        (
            vec![
                "--from".as_ref(),
                "-".as_ref(),
                "--from".as_ref(),
                "-".as_ref(),
            ],
            "stdin ('-') can be read once",
        ),
        (
            vec![
                "--from".as_ref(),
                f,
                "--from".as_ref(),
                f,
                "--json".as_ref(),
            ],
            "--json writes one snapshot",
        ),
        (vec!["--from".as_ref(), nope.as_os_str()], "no such file"),
    ];
    for (args, want) in cases {
        let (code, _, err) = run(&args, Some(Vec::new()));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}
