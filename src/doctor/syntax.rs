//! systemd's value syntax: quoted words, C escapes, `%` specifiers, `$VAR` expansion, and
//! environment files. Pure functions over text (systemd.syntax(7), systemd.unit(5)
//! "Specifiers", systemd.exec(5) "EnvironmentFile=").

use std::collections::BTreeMap;

/// Splits a value into words as systemd does for `Environment=`, `ExecStart=` and path
/// lists: whitespace separates words; `"..."` and `'...'` quote (also inside a word, as in
/// `A="b c"`); backslash escapes (`\n`, `\t`, `\\`, `\"`, `\'`, `\xHH`, `\ `) are decoded.
pub fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            if quote.is_none() && c.is_whitespace() {
                break;
            }
            chars.next();
            match (c, quote) {
                ('\\', _) => word.push(unescape(&mut chars)?),
                ('"' | '\'', None) => quote = Some(c),
                (q, Some(open)) if q == open => quote = None,
                _ => word.push(c),
            }
        }
        if let Some(q) = quote {
            return Err(format!("unterminated {q} quote"));
        }
        words.push(word);
    }
}

fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, String> {
    let c = chars.next().ok_or("a trailing backslash")?;
    Ok(match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'v' => '\x0b',
        's' => ' ',
        'x' => {
            let hex: String = chars.by_ref().take(2).collect();
            u8::from_str_radix(&hex, 16)
                .map(char::from)
                .map_err(|_| format!("bad escape \\x{hex}"))?
        }
        other => other,
    })
}

/// What `%` specifiers expand to for one unit.
#[derive(Debug, Clone, Default)]
pub struct Specifiers {
    /// Full unit name (`%n`).
    pub unit: String,
    /// The user the service runs as (`%u`), with its uid (`%U`) and home (`%h`).
    pub user: Option<(String, u32, String)>,
}

impl Specifiers {
    /// Expands `%x` specifiers; returns the text and the specifiers it could not expand.
    pub fn expand(&self, s: &str) -> (String, Vec<char>) {
        let mut out = String::with_capacity(s.len());
        let mut unknown = Vec::new();
        let mut chars = s.chars();
        let name = self.unit.rsplit_once('.').map_or(&*self.unit, |(n, _)| n);
        let (prefix, instance) = name.split_once('@').unwrap_or((name, ""));
        let (user, uid, home) = match &self.user {
            Some((u, id, h)) => (u.clone(), id.to_string(), h.clone()),
            None => ("root".into(), "0".into(), "/root".into()),
        };
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(spec) = chars.next() else {
                out.push('%');
                break;
            };
            let value = match spec {
                '%' => "%",
                'n' => &self.unit,
                'N' => name,
                'p' => prefix,
                'i' | 'I' => instance,
                'u' => &user,
                'U' => &uid,
                'h' => &home,
                'S' => "/var/lib",
                'C' => "/var/cache",
                'L' => "/var/log",
                't' => "/run",
                'E' => "/etc",
                'T' => "/tmp",
                'V' => "/var/tmp",
                other => {
                    unknown.push(other);
                    out.push('%');
                    out.push(other);
                    continue;
                }
            };
            out.push_str(value);
        }
        (out, unknown)
    }
}

/// Expands `${NAME}` and `$NAME` in an `ExecStart=` word from the service environment
/// (systemd.service(5) "Command lines"); unset variables expand to nothing.
pub fn expand_env(word: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(inner) = after.strip_prefix('{')
            && let Some(end) = inner.find('}')
        {
            out.push_str(env.get(&inner[..end]).map_or("", String::as_str));
            rest = &inner[end + 1..];
            continue;
        }
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if len == 0 {
            out.push('$');
        } else {
            out.push_str(env.get(&after[..len]).map_or("", String::as_str));
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// True for a valid environment variable name.
pub fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What an `EnvironmentFile=` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    /// `(line, key, value)` in file order.
    pub vars: Vec<(usize, String, String)>,
    /// Lines that are not assignments (systemd ignores them).
    pub bad_lines: Vec<usize>,
}

/// Parses an `EnvironmentFile=`: `KEY=VALUE` lines, `#`/`;` comments, single or double
/// quotes, backslash line continuation.
pub fn parse_env_file(text: &str) -> EnvFile {
    let mut vars = Vec::new();
    let mut bad = Vec::new();
    let mut pending = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if pending.is_empty() {
            start = i + 1;
        }
        if let Some(cont) = raw.strip_suffix('\\') {
            pending.push_str(cont);
            continue;
        }
        pending.push_str(raw);
        let line = std::mem::take(&mut pending);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) if is_env_name(k.trim()) => {
                let v = v.trim();
                let value = if v.starts_with('"') || v.starts_with('\'') {
                    split_words(v)
                        .ok()
                        .and_then(|w| w.into_iter().next())
                        .unwrap_or_default()
                } else {
                    v.to_string()
                };
                vars.push((start, k.trim().to_string(), value));
            }
            _ => bad.push(start),
        }
    }
    EnvFile {
        vars,
        bad_lines: bad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_systemd_quoting() {
        let w =
            split_words(r#""PYTHONPYCACHEPREFIX=/opt/x tmp" A=1 B="two words" 'C=\'q\''"#).unwrap();
        assert_eq!(
            w,
            [
                "PYTHONPYCACHEPREFIX=/opt/x tmp",
                "A=1",
                "B=two words",
                "C='q'"
            ]
        );
        assert_eq!(split_words(r"a\x41\tb").unwrap(), ["aA\tb"]);
        assert!(split_words(r#""open"#).is_err());
        assert!(split_words("   ").unwrap().is_empty());
    }

    #[test]
    fn specifiers_expand_and_unknown_ones_are_reported() {
        let s = Specifiers {
            unit: "web@blue.service".into(),
            user: Some(("app".into(), 1001, "/home/app".into())),
        };
        assert_eq!(
            s.expand("%C/%p-%i %h %% %N").0,
            "/var/cache/web-blue /home/app % web@blue"
        );
        let (out, unknown) = s.expand("%j/x");
        assert_eq!((out.as_str(), unknown), ("%j/x", vec!['j']));
    }

    #[test]
    fn exec_words_expand_variables() {
        let env = BTreeMap::from([("APP".to_string(), "/srv/app".to_string())]);
        assert_eq!(expand_env("${APP}/run.py", &env), "/srv/app/run.py");
        assert_eq!(expand_env("$APP-$MISSING.$", &env), "/srv/app-.$");
    }

    #[test]
    fn env_files_parse_quotes_comments_and_continuations() {
        let EnvFile { vars, bad_lines } = parse_env_file(
            "# comment\n; also\nA=1\nB = \"x y\"\nC='z'\nD=long \\\nvalue\nnot an assignment\n",
        );
        let got: Vec<(&str, &str)> = vars.iter().map(|(_, k, v)| (&**k, &**v)).collect();
        assert_eq!(
            got,
            [("A", "1"), ("B", "x y"), ("C", "z"), ("D", "long value")]
        );
        assert_eq!(vars[3].0, 6);
        assert_eq!(bad_lines, [8]);
    }
}
