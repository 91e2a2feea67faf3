//! What the image says about how it runs: its `USER`, environment, working directory,
//! command and a read-only root, from the configs the usual tools write:
//! - an OCI runtime bundle (`umoci unpack`, `runc spec`): `DIR/config.json` beside
//!   `DIR/rootfs` (`process.user`, `process.env`, `process.cwd`, `process.args`,
//!   `root.readonly`);
//! - `docker inspect IMAGE|CONTAINER` output (`[{"Config": {"User", "Env", "WorkingDir",
//!   "Entrypoint", "Cmd"}, "HostConfig": {"ReadonlyRootfs"}}]`);
//! - an OCI image config blob (`{"config": {"User", "Env", ...}}`).

use serde_json::Value;

/// The runtime facts of an image, each None when the config does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImageConfig {
    /// Which file said it, and which layout it had.
    pub from: String,
    /// `USER` (Docker syntax: `name`, `uid`, `uid:gid`).
    pub user: Option<String>,
    /// The environment, `KEY=VALUE` (in JSON only the `PYTHON*` variables: image
    /// environments hold secrets).
    #[serde(serialize_with = "python_only")]
    pub env: Vec<(String, String)>,
    /// The working directory.
    pub working_dir: Option<String>,
    /// Entrypoint followed by command.
    pub command: Vec<String>,
    /// The root filesystem is mounted read-only.
    pub read_only: Option<bool>,
}

fn python_only<S: serde::Serializer>(env: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(
        env.iter()
            .filter(|(k, _)| k.starts_with("PYTHON"))
            .map(|(k, v)| (k, v)),
    )
}

impl ImageConfig {
    /// The value of an environment variable.
    pub fn env(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses any of the three layouts; an error names the file and what it lacks.
pub fn parse(text: &str, from: &str) -> Result<ImageConfig, String> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| format!("{from} is not JSON ({e}); give a 'docker inspect' output, an OCI image config or a bundle's config.json"))?;
    let doc = match &doc {
        Value::Array(items) if items.len() == 1 => &items[0],
        Value::Array(_) => {
            return Err(format!(
                "{from} holds several images or containers; inspect one"
            ));
        }
        other => other,
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let env_of = |v: &Value| -> Vec<(String, String)> {
        strings(v)
            .iter()
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect()
    };
    let text_of = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(process) = doc.get("process") {
        // An OCI runtime bundle: numeric ids, the root's read-only flag.
        let user = process.get("user").and_then(|u| {
            let uid = u.get("uid")?.as_u64()?;
            Some(match u.get("gid").and_then(Value::as_u64) {
                Some(gid) => format!("{uid}:{gid}"),
                None => uid.to_string(),
            })
        });
        return Ok(ImageConfig {
            from: format!("{from} (OCI runtime bundle)"),
            user,
            env: env_of(&process["env"]),
            working_dir: text_of(&process["cwd"]),
            command: strings(&process["args"]),
            read_only: doc
                .get("root")
                .and_then(|r| r.get("readonly"))
                .and_then(Value::as_bool),
        });
    }
    let (config, layout) = if let Some(c) = doc.get("Config") {
        (c, "docker inspect")
    } else if let Some(c) = doc.get("config") {
        (c, "OCI image config")
    } else {
        return Err(format!(
            "{from} has no process, Config or config object; give a 'docker inspect' output, an OCI image config or a bundle's config.json"
        ));
    };
    let mut command = strings(&config["Entrypoint"]);
    command.extend(strings(&config["Cmd"]));
    Ok(ImageConfig {
        from: format!("{from} ({layout})"),
        user: text_of(&config["User"]),
        env: env_of(&config["Env"]),
        working_dir: text_of(&config["WorkingDir"]),
        command,
        read_only: doc
            .get("HostConfig")
            .and_then(|h| h.get("ReadonlyRootfs"))
            .and_then(Value::as_bool),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_layouts_give_the_same_facts() {
        let inspect = r#"[{"Config":{"User":"app","Env":["PATH=/usr/bin","PYTHONDONTWRITEBYTECODE=1"],"WorkingDir":"/app","Entrypoint":null,"Cmd":["python","run.py"]},"HostConfig":{"ReadonlyRootfs":true}}]"#;
        let c = parse(inspect, "i.json").unwrap();
        assert_eq!(c.user.as_deref(), Some("app"));
        assert_eq!(c.env("PYTHONDONTWRITEBYTECODE"), Some("1"));
        assert_eq!(
            (c.working_dir.as_deref(), c.read_only),
            (Some("/app"), Some(true))
        );
        assert_eq!(c.command, ["python", "run.py"]);
        let oci = r#"{"architecture":"amd64","config":{"User":"1000:1000","WorkingDir":"/srv"}}"#;
        let c = parse(oci, "blob").unwrap();
        assert_eq!((c.user.as_deref(), c.read_only), (Some("1000:1000"), None));
        let bundle = r#"{"process":{"user":{"uid":33,"gid":33},"env":["A=b"],"cwd":"/","args":["sh"]},"root":{"path":"rootfs","readonly":true}}"#;
        let c = parse(bundle, "config.json").unwrap();
        assert_eq!(
            (c.user.as_deref(), c.read_only),
            (Some("33:33"), Some(true))
        );
        assert!(
            parse("{}", "x.json")
                .unwrap_err()
                .contains("no process, Config or config")
        );
        assert!(
            parse("nope", "x.json")
                .unwrap_err()
                .starts_with("x.json is not JSON")
        );
    }
}
