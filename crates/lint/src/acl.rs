//! POSIX access ACLs (`system.posix_acl_access`): a directory or file whose bits deny nginx's
//! user may still let it in through an ACL entry, and one whose bits allow may be narrowed by
//! the ACL's mask. The permission check reads the ACL when there is one and decides as the
//! kernel does (POSIX.1e access check).

// Windows reads no ACL (`Acl::read` is `None` there), so the parser is unused on it.
#![cfg_attr(not(unix), allow(dead_code))]

use std::path::Path;

const ACL_VERSION: u32 = 2;
const TAG_USER_OBJ: u16 = 0x01;
const TAG_USER: u16 = 0x02;
const TAG_GROUP_OBJ: u16 = 0x04;
const TAG_GROUP: u16 = 0x08;
const TAG_MASK: u16 = 0x10;
const TAG_OTHER: u16 = 0x20;
/// Largest ACL read: the kernel's own limit is far below this for ordinary file systems.
const MAX_ACL_BYTES: usize = 64 * 1024;

/// One ACL entry: tag, permission bits (rwx = 4|2|1), the uid or gid for named entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    tag: u16,
    perm: u32,
    id: u32,
}

/// An access ACL with named entries (a plain one only mirrors the mode bits and is ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl(Vec<Entry>);

impl Acl {
    /// Parses the xattr's bytes; `None` when malformed or when it has no named entry.
    pub fn parse(bytes: &[u8]) -> Option<Acl> {
        let (head, rest) = bytes.split_first_chunk::<4>()?;
        if u32::from_le_bytes(*head) != ACL_VERSION || rest.len() % 8 != 0 {
            return None;
        }
        let entries: Vec<Entry> = rest
            .chunks_exact(8)
            .map(|e| Entry {
                tag: u16::from_le_bytes([e[0], e[1]]),
                perm: u32::from(u16::from_le_bytes([e[2], e[3]]) & 7),
                id: u32::from_le_bytes([e[4], e[5], e[6], e[7]]),
            })
            .collect();
        entries
            .iter()
            .any(|e| e.tag == TAG_USER || e.tag == TAG_GROUP)
            .then_some(Acl(entries))
    }

    /// Reads a path's access ACL (following symbolic links), if it has one with named entries.
    #[cfg(unix)]
    pub fn read(path: &Path) -> Option<Acl> {
        let mut buf = vec![0u8; MAX_ACL_BYTES];
        let n = rustix::fs::getxattr(path, "system.posix_acl_access", &mut buf[..]).ok()?;
        Acl::parse(buf.get(..n)?)
    }

    /// POSIX ACLs are extended attributes of Unix file systems; Windows has none to read.
    #[cfg(not(unix))]
    pub fn read(_path: &Path) -> Option<Acl> {
        None
    }

    /// Whether a user (`uid`, in groups `gids`) gets `want` (4 read, 1 execute) on a file owned
    /// by `owner`:`group`, by the POSIX.1e access check.
    pub fn allows(&self, uid: u32, gids: &[u32], owner: u32, group: u32, want: u32) -> bool {
        let get = |tag: u16| self.0.iter().find(|e| e.tag == tag).map(|e| e.perm);
        let mask = get(TAG_MASK).unwrap_or(7);
        if uid == owner {
            return get(TAG_USER_OBJ).unwrap_or(0) & want == want;
        }
        if let Some(e) = self.0.iter().find(|e| e.tag == TAG_USER && e.id == uid) {
            return e.perm & mask & want == want;
        }
        let groups: Vec<u32> = self
            .0
            .iter()
            .filter(|e| {
                (e.tag == TAG_GROUP_OBJ && gids.contains(&group))
                    || (e.tag == TAG_GROUP && gids.contains(&e.id))
            })
            .map(|e| e.perm)
            .collect();
        if !groups.is_empty() {
            return groups.iter().any(|p| p & mask & want == want);
        }
        get(TAG_OTHER).unwrap_or(0) & want == want
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(entries: &[(u16, u16, u32)]) -> Vec<u8> {
        let mut b = ACL_VERSION.to_le_bytes().to_vec();
        for (tag, perm, id) in entries {
            b.extend(tag.to_le_bytes());
            b.extend(perm.to_le_bytes());
            b.extend(id.to_le_bytes());
        }
        b
    }

    /// `setfacl -m u:33:x,m::x` on a `drwxr-x---` directory owned by 0:0.
    fn named_user() -> Vec<u8> {
        bytes(&[
            (TAG_USER_OBJ, 7, u32::MAX),
            (TAG_USER, 1, 33),
            (TAG_GROUP_OBJ, 5, u32::MAX),
            (TAG_MASK, 5, u32::MAX),
            (TAG_OTHER, 0, u32::MAX),
        ])
    }

    #[test]
    fn the_kernels_access_check() {
        let acl = Acl::parse(&named_user()).expect("named entries");
        assert!(
            acl.allows(33, &[33], 0, 0, 1),
            "u:33:x lets www-data through"
        );
        assert!(!acl.allows(33, &[33], 0, 0, 4), "but not read");
        assert!(!acl.allows(65534, &[65534], 0, 0, 1), "others get nothing");
        assert!(acl.allows(1000, &[0], 0, 0, 1), "the owning group: r-x");
        // The mask narrows named entries.
        let masked = bytes(&[
            (TAG_USER_OBJ, 7, 0),
            (TAG_USER, 5, 33),
            (TAG_GROUP_OBJ, 0, 0),
            (TAG_MASK, 4, 0),
            (TAG_OTHER, 0, 0),
        ]);
        let acl = Acl::parse(&masked).expect("named entries");
        assert!(acl.allows(33, &[33], 0, 0, 4));
        assert!(!acl.allows(33, &[33], 0, 0, 1));
    }

    #[test]
    fn plain_and_malformed_acls_are_ignored() {
        let plain = bytes(&[
            (TAG_USER_OBJ, 7, 0),
            (TAG_GROUP_OBJ, 5, 0),
            (TAG_OTHER, 5, 0),
        ]);
        assert_eq!(Acl::parse(&plain), None);
        assert_eq!(Acl::parse(&[]), None);
        assert_eq!(Acl::parse(&[2, 0, 0, 0, 1]), None);
        let mut wrong = named_user();
        wrong[0] = 3;
        assert_eq!(Acl::parse(&wrong), None);
    }
}
