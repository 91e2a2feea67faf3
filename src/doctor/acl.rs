//! POSIX ACLs, read from the `system.posix_acl_access` xattr and decided the way the
//! kernel's `posix_acl_permission` does (no libacl needed: crates.md §4).

use super::identity::{Identity, group_name, user_name};
use std::path::Path;

const ACL_USER_OBJ: u16 = 0x01;
const ACL_USER: u16 = 0x02;
const ACL_GROUP_OBJ: u16 = 0x04;
const ACL_GROUP: u16 = 0x08;
const ACL_MASK: u16 = 0x10;
const ACL_OTHER: u16 = 0x20;

/// One POSIX ACL entry as stored in `system.posix_acl_access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AclEntry {
    /// USER_OBJ 1, USER 2, GROUP_OBJ 4, GROUP 8, MASK 0x10, OTHER 0x20.
    pub tag: u16,
    /// rwx bits (4/2/1).
    pub perm: u16,
    /// uid or gid for USER and GROUP entries.
    pub id: u32,
}

/// Decodes the xattr: u32 version 2, then 8-byte `{u16 tag, u16 perm, u32 id}` entries.
pub fn parse_acl(bytes: &[u8]) -> Option<Vec<AclEntry>> {
    let (version, rest) = bytes.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*version) != 2 || rest.len() % 8 != 0 {
        return None;
    }
    let entries = rest
        .chunks_exact(8)
        .map(|c| AclEntry {
            tag: u16::from_le_bytes([c[0], c[1]]),
            perm: u16::from_le_bytes([c[2], c[3]]),
            id: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    Some(entries)
}

/// Encodes entries as the xattr value (for tests and fixtures).
pub fn encode_acl(entries: &[AclEntry]) -> Vec<u8> {
    let mut out = 2u32.to_le_bytes().to_vec();
    for e in entries {
        out.extend(e.tag.to_le_bytes());
        out.extend(e.perm.to_le_bytes());
        out.extend(e.id.to_le_bytes());
    }
    out
}

/// The ACL of a path, if it has one.
pub fn read_acl(path: &Path) -> Option<Vec<AclEntry>> {
    let bytes = xattr::get(path, "system.posix_acl_access").ok()??;
    parse_acl(&bytes)
}

/// The kernel's `posix_acl_permission` for a non-owner (the owner was checked before).
pub fn acl_decides(
    id: &Identity,
    file_gid: u32,
    acl: &[AclEntry],
    want: u32,
) -> Result<(), String> {
    let want16 = want as u16;
    let mask = acl.iter().find(|e| e.tag == ACL_MASK).map_or(7, |e| e.perm);
    let masked = |e: &AclEntry, what: String| {
        if e.perm & mask & want16 == want16 {
            Ok(())
        } else {
            Err(format!(
                "ACL {what}:{} masked to {}",
                rwx(e.perm),
                rwx(e.perm & mask)
            ))
        }
    };
    if let Some(e) = acl
        .iter()
        .find(|e| e.tag == ACL_USER && Some(e.id) == id.uid)
    {
        return masked(e, format!("user:{}", user_name(e.id)));
    }
    let mut found = false;
    for e in acl {
        let matches = match e.tag {
            ACL_GROUP_OBJ => id.in_group(file_gid),
            ACL_GROUP => id.in_group(e.id),
            _ => false,
        };
        if matches {
            found = true;
            if e.perm & want16 == want16 {
                let name = if e.tag == ACL_GROUP {
                    group_name(e.id)
                } else {
                    String::new()
                };
                return masked(e, format!("group:{name}"));
            }
        }
    }
    if found {
        return Err("no matching ACL group entry grants it".into());
    }
    let other = acl
        .iter()
        .find(|e| e.tag == ACL_OTHER)
        .map_or(0, |e| e.perm);
    if other & want16 == want16 {
        Ok(())
    } else {
        Err(format!("ACL other:{}", rwx(other)))
    }
}

fn rwx(perm: u16) -> String {
    [(4, 'r'), (2, 'w'), (1, 'x')]
        .iter()
        .map(|&(b, c)| if perm & b != 0 { c } else { '-' })
        .collect()
}

/// True for an extended ACL (one with a mask); a minimal ACL is just the mode bits.
pub fn has_mask(acl: &[AclEntry]) -> bool {
    acl.iter().any(|e| e.tag == ACL_MASK)
}

/// Entry constructors for tests and fixtures: `(tag, perm, id)`.
pub fn acl_entry(tag: &str, perm: u16, id: u32) -> AclEntry {
    let tag = match tag {
        "user_obj" => ACL_USER_OBJ,
        "user" => ACL_USER,
        "group_obj" => ACL_GROUP_OBJ,
        "group" => ACL_GROUP,
        "mask" => ACL_MASK,
        _ => ACL_OTHER,
    };
    AclEntry { tag, perm, id }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: u32, groups: &[u32]) -> Identity {
        Identity::for_test(uid, groups)
    }

    #[test]
    fn acl_bytes_round_trip() {
        let acl = vec![
            acl_entry("user_obj", 7, u32::MAX),
            acl_entry("user", 7, 65534),
            acl_entry("mask", 5, u32::MAX),
        ];
        assert_eq!(parse_acl(&encode_acl(&acl)), Some(acl));
        assert_eq!(parse_acl(&[1, 0, 0, 0]), None);
        assert_eq!(parse_acl(&[2, 0, 0, 0, 1]), None);
    }

    #[test]
    fn acl_rules_follow_the_kernel() {
        let base = |extra: Vec<AclEntry>| {
            let mut v = vec![acl_entry("user_obj", 7, 0), acl_entry("group_obj", 5, 0)];
            v.extend(extra);
            v.push(acl_entry("other", 5, 0));
            v
        };
        let u = user(1000, &[1000]);
        let named = base(vec![acl_entry("user", 7, 1000), acl_entry("mask", 7, 0)]);
        assert!(acl_decides(&u, 0, &named, 3).is_ok());
        let masked = base(vec![acl_entry("user", 7, 1000), acl_entry("mask", 5, 0)]);
        assert!(
            acl_decides(&u, 0, &masked, 3)
                .unwrap_err()
                .contains("masked to r-x")
        );
        let group = base(vec![acl_entry("group", 7, 1000), acl_entry("mask", 7, 0)]);
        assert!(acl_decides(&u, 0, &group, 3).is_ok());
        // A matching group entry that does not grant stops the search: other is not used.
        let other_rwx = vec![
            acl_entry("group_obj", 5, 0),
            acl_entry("mask", 7, 0),
            acl_entry("other", 7, 0),
        ];
        assert!(acl_decides(&user(1000, &[0]), 0, &other_rwx, 3).is_err());
        assert!(acl_decides(&u, 0, &other_rwx, 3).is_ok());
    }
}
