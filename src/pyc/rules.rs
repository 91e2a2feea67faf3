//! What the import system does with a cache ([`Outcome`]), and the interpreter settings
//! that change it (`--check-hash-based-pycs`).

use super::verdict::Status;
use serde::Serialize;

/// CPython's `--check-hash-based-pycs` (`_imp.check_hash_based_pycs`, 3.7+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashCheck {
    /// Checked-hash pycs are validated against their source, unchecked ones are not.
    #[default]
    Default,
    /// Every hash-based pyc is validated.
    Always,
    /// No hash-based pyc is validated.
    Never,
}

impl HashCheck {
    /// Every mode, as the interpreter's flag spells it.
    pub const ALL: [HashCheck; 3] = [HashCheck::Default, HashCheck::Always, HashCheck::Never];

    /// The flag's value (`default`, `always`, `never`).
    pub fn as_str(self) -> &'static str {
        match self {
            HashCheck::Default => "default",
            HashCheck::Always => "always",
            HashCheck::Never => "never",
        }
    }

    /// Parses the flag's value.
    pub fn parse(s: &str) -> Option<HashCheck> {
        HashCheck::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// True when a hash-based pyc with this `check_source` bit is compared with its source
    /// (importlib's `SourceLoader.get_code`).
    pub fn validates(self, checked: bool) -> bool {
        match self {
            HashCheck::Never => false,
            HashCheck::Always => true,
            HashCheck::Default => checked,
        }
    }
}

/// What importing the module does with the cache, for the interpreter that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Its bytecode is loaded.
    Used,
    /// It is read and rejected: the source is compiled instead.
    Recompiled,
    /// It is loaded and the import fails (corrupt body, or a sourceless file that is bad).
    ImportError,
    /// The import system never opens it (no source, shadowed, not a cache name).
    NeverConsulted,
}

impl Outcome {
    /// The usual outcome of a status; verdicts override it where the rule differs.
    pub fn of(status: Status) -> Outcome {
        match status {
            Status::Fresh | Status::Sourceless => Outcome::Used,
            Status::Stale | Status::Invalid | Status::Unreadable => Outcome::Recompiled,
            Status::Orphaned | Status::Shadowed => Outcome::NeverConsulted,
        }
    }

    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Used => "used",
            Outcome::Recompiled => "recompiled",
            Outcome::ImportError => "import-error",
            Outcome::NeverConsulted => "never-consulted",
        }
    }
}
