//! Who the service runs as: user id, primary group, supplementary groups.
//!
//! Groups come from `getgrouplist(user, gid)`, which is what systemd's `initgroups` gives a
//! service with `User=`; a running process's groups come from `/proc/PID/status` instead.

use super::DoctorError;
use nix::unistd::{Gid, Group, Uid, User, getgrouplist};
use serde::Serialize;
use std::ffi::CString;

/// A user identity as the kernel checks permissions for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// User name (or the number when it has no name).
    pub name: String,
    /// User id; None for a `DynamicUser=` allocated at start, which owns no file here.
    pub uid: Option<u32>,
    /// Primary group id; None for a dynamic user.
    pub gid: Option<u32>,
    /// Every group, the primary one included.
    pub groups: Vec<u32>,
}

impl Identity {
    /// Looks up a user by name or number, with an optional primary group override and
    /// extra supplementary groups (names or numbers).
    pub fn lookup(user: &str, group: Option<&str>, extra: &[String]) -> Result<Self, DoctorError> {
        let found = match user.parse::<u32>() {
            Ok(n) => User::from_uid(Uid::from_raw(n)),
            Err(_) => User::from_name(user),
        }
        .map_err(|e| DoctorError::new(format!("cannot look up user {user}: {e}")))?
        .ok_or_else(|| {
            DoctorError::new(format!(
                "no user named {user} on this machine; pass --user with an existing user (getent passwd lists them)"
            ))
        })?;
        let gid = match group {
            Some(g) => lookup_group(g)?,
            None => found.gid.as_raw(),
        };
        let mut groups = match CString::new(found.name.clone()) {
            Ok(c) => getgrouplist(&c, Gid::from_raw(gid))
                .map(|g| g.into_iter().map(Gid::as_raw).collect())
                .unwrap_or_else(|_| vec![gid]),
            Err(_) => vec![gid],
        };
        for g in extra {
            groups.push(lookup_group(g)?);
        }
        groups.sort_unstable();
        groups.dedup();
        Ok(Self {
            name: found.name,
            uid: Some(found.uid.as_raw()),
            gid: Some(gid),
            groups,
        })
    }

    /// The user running pycache.
    pub fn current() -> Self {
        let uid = Uid::effective().as_raw();
        let gid = Gid::effective().as_raw();
        let mut groups: Vec<u32> = nix::unistd::getgroups()
            .map(|g| g.into_iter().map(Gid::as_raw).collect())
            .unwrap_or_default();
        groups.push(gid);
        groups.sort_unstable();
        groups.dedup();
        Self {
            name: user_name(uid),
            uid: Some(uid),
            gid: Some(gid),
            groups,
        }
    }

    /// A `DynamicUser=` identity: a fresh uid, its own group, plus supplementary groups.
    pub fn dynamic(name: &str, extra: &[String]) -> Result<Self, DoctorError> {
        let groups = extra
            .iter()
            .map(|g| lookup_group(g))
            .collect::<Result<Vec<u32>, _>>()?;
        Ok(Self {
            name: name.to_string(),
            uid: None,
            gid: None,
            groups,
        })
    }

    /// A user named by a unit who does not exist on this machine (a unit written for a
    /// server, the demo's `User=lernmanager`): no uid, no groups, so every permission is
    /// decided by the bits for others.
    pub fn absent(name: &str) -> Self {
        Self {
            name: name.to_string(),
            uid: None,
            gid: None,
            groups: Vec::new(),
        }
    }

    /// True for uid 0, which passes every permission check on directories.
    pub fn is_root(&self) -> bool {
        self.uid == Some(0)
    }

    /// True when the user is in this group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.groups.contains(&gid)
    }

    /// `nobody (uid 65534, gid 65534 nogroup; groups nogroup)`.
    pub fn describe(&self) -> String {
        match (self.uid, self.gid) {
            (Some(uid), Some(gid)) => {
                let groups: Vec<String> = self.groups.iter().map(|g| group_name(*g)).collect();
                format!(
                    "{} (uid {uid}, gid {gid} {}; groups {})",
                    self.name,
                    group_name(gid),
                    groups.join(",")
                )
            }
            _ => format!(
                "{} (dynamic user: a uid allocated at start that owns no file here)",
                self.name
            ),
        }
    }
}

#[cfg(test)]
impl Identity {
    /// A user for permission tests: this uid and these groups (the first is the primary).
    pub(crate) fn for_test(uid: u32, groups: &[u32]) -> Self {
        Self {
            name: "u".into(),
            uid: Some(uid),
            gid: groups.first().copied(),
            groups: groups.to_vec(),
        }
    }
}

fn lookup_group(g: &str) -> Result<u32, DoctorError> {
    if let Ok(n) = g.parse::<u32>() {
        return Ok(n);
    }
    Group::from_name(g)
        .ok()
        .flatten()
        .map(|gr| gr.gid.as_raw())
        .ok_or_else(|| {
            DoctorError::new(format!(
                "no group named {g} on this machine; pass --group with an existing group (getent group lists them)"
            ))
        })
}

/// The name of a uid, or the number.
pub fn user_name(uid: u32) -> String {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name)
}

/// The name of a gid, or the number.
pub fn group_name(gid: u32) -> String {
    Group::from_gid(Gid::from_raw(gid))
        .ok()
        .flatten()
        .map_or_else(|| gid.to_string(), |g| g.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_unknown_users() {
        let root = Identity::lookup("root", None, &[]).unwrap();
        assert!(root.is_root() && root.in_group(0));
        assert!(Identity::lookup("0", None, &[]).unwrap().is_root());
        let err = Identity::lookup("no-such-user-xyz", None, &[]).unwrap_err();
        assert!(err.to_string().contains("no user named no-such-user-xyz"));
        let dynamic = Identity::dynamic("app", &[]).unwrap();
        assert!(!dynamic.is_root() && dynamic.describe().contains("dynamic"));
    }
}
