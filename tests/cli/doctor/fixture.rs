//! A seed-like project (run.py -> app -> config/models/utils, owned by root, mode 755) and
//! helpers to act as the service user `nobody`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// True when the tests run as root (needed to chown and to act as nobody).
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// A Python 3.8+ interpreter (3.13 first), for prefix support. When running as root it
/// must be one nobody can run too (pyenv under /root is not), since the tests compare with
/// what Python does as nobody.
pub fn interpreter() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = ["3.13", "3.12", "3.11", "3.10"]
        .iter()
        .filter_map(|v| crate::support::python(v))
        .collect();
    candidates.push(PathBuf::from("/usr/bin/python3"));
    candidates.into_iter().filter(|p| p.exists()).find(|p| {
        !is_root()
            || as_nobody()
                .arg("env")
                .arg(p)
                .args(["-c", "import json"])
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    })
}

/// `setpriv` as nobody:nogroup with nobody's groups: the kernel's real answer.
pub fn as_nobody() -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--init-groups"]);
    cmd
}

/// Gives a path to nobody:nogroup.
pub fn chown_nobody(path: &Path) {
    let user = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    nix::unistd::chown(path, Some(user.uid), Some(user.gid)).unwrap();
}

/// A module with many small classes: a few milliseconds to compile.
fn classes(name: &str, n: usize) -> String {
    let mut s =
        format!("\"\"\"{name}: generated for the doctor tests.\"\"\"\nimport json\nimport re\n\n");
    for i in 0..n {
        s.push_str(&format!(
            "class Model{i}:\n    fields = {{\"id\": int, \"name\": str, \"value{i}\": float}}\n\n    def __init__(self, **kw):\n        for k, v in kw.items():\n            setattr(self, k, v)\n\n    def to_json(self):\n        return json.dumps({{k: getattr(self, k, None) for k in self.fields}})\n\n    def validate(self):\n        if not re.match(r\"^[a-z]+$\", str(getattr(self, \"name\", \"\"))):\n            raise ValueError(\"bad name in {i}\")\n        return [x * {i} for x in range(10) if x % 2]\n\n\n"
        ));
    }
    s
}

/// The project in a private temporary directory.
pub struct Seed {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The project: `DIR/app`.
    pub app: PathBuf,
}

impl Seed {
    pub fn new() -> Self {
        Self::named("app")
    }

    /// The project in `DIR/NAME` (a name with a space tests the quoting of fixes).
    pub fn named(name: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // tempdir() is 0700: open it so nobody can reach the project, as on a server.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let app = dir.path().join(name);
        let files = [
            ("run.py", "from app import app, init_app\n\nif __name__ == \"__main__\":\n    print(init_app())\n".to_string()),
            ("app.py", "import config\nimport models\nimport utils\n\napp = {\"name\": \"lernmanager\"}\n\n\ndef init_app():\n    models.init(config.DATABASE)\n    return utils.slugify(\"Ready\")\n".to_string()),
            ("config.py", "DATABASE = \"sqlite:///instance/app.db\"\nDEBUG = False\n".to_string()),
            ("models.py", classes("models", 60) + "def init(db):\n    return db\n"),
            ("utils.py", classes("utils", 20) + "def slugify(s):\n    return s.lower()\n"),
        ];
        for (name, text) in files {
            crate::support::write(&app.join(name), text);
        }
        std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self { dir, app }
    }

    /// Runs `python run.py` as nobody, as the service would (bytecode writing on).
    pub fn run_as_nobody(&self, py: &Path, env: &[&str]) {
        let out = as_nobody()
            .args([
                "env",
                "-u",
                "PYTHONDONTWRITEBYTECODE",
                "-u",
                "PYTHONPYCACHEPREFIX",
            ])
            .args(env)
            .arg(py)
            .arg(self.app.join("run.py"))
            .current_dir(&self.app)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Compiles the whole project into `__pycache__` (as the owner, root).
    pub fn compile_all(&self, py: &Path, prefix: Option<&Path>) {
        let mut cmd = Command::new(py);
        if let Some(p) = prefix {
            cmd.arg("-X").arg(format!("pycache_prefix={}", p.display()));
        }
        let st = cmd
            .args(["-m", "compileall", "-q"])
            .arg(&self.app)
            .env_remove("PYTHONPYCACHEPREFIX")
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Copies tests/doctor_units to `DIR/units`, with @APP@ and @PYTHON@ filled in.
    pub fn units(&self, py: &Path) -> PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/doctor_units");
        let dst = self.dir.path().join("units");
        copy(
            &src,
            &dst,
            &[
                ("@APP@", self.app.to_str().unwrap()),
                ("@PYTHON@", py.to_str().unwrap()),
            ],
        );
        dst
    }
}

fn copy(src: &Path, dst: &Path, subst: &[(&str, &str)]) {
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &to, subst);
        } else {
            let mut text = std::fs::read_to_string(entry.path()).unwrap();
            for (from, with) in subst {
                text = text.replace(from, with);
            }
            crate::support::write(&to, text);
        }
    }
}
