//! Whether the web server's user can reach every static file: the execute bit on every
//! directory from `/` down, read on every file, judged by ownership, group membership (from
//! /etc/passwd and /etc/group) and permission bits, as the kernel does for that user.

#[cfg(unix)]
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use interloper_findings::{Code, Finding};

use crate::finding::LintFinding;

/// Most entries examined under the static root; the rest is not judged (said in the finding).
pub const MAX_ENTRIES: usize = 500_000;
/// Offending paths listed in a finding.
const SHOWN: usize = 20;

/// A user as the kernel sees it: uid, primary and supplementary groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The name given (or the number).
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// Primary group first, then the groups that list it.
    pub gids: Vec<u32>,
    /// Primary group's name, for `chown` lines.
    pub group: String,
}

/// Looks `spec` (a name or a number) up in the text of /etc/passwd and /etc/group. `group` is
/// nginx's optional second `user` argument, which replaces the primary group.
pub fn resolve_account(
    spec: &str,
    group: Option<&str>,
    passwd: &str,
    groups: &str,
) -> Option<Account> {
    let entry = passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 4 && (f[0] == spec || f[2] == spec)).then(|| {
            (
                f[0].to_string(),
                f[2].parse::<u32>().ok(),
                f[3].parse::<u32>().ok(),
            )
        })
    });
    let (name, uid, mut gid) = match entry {
        Some((n, Some(u), g)) => (n, u, g),
        _ => (spec.to_string(), spec.parse().ok()?, None),
    };
    let group_lines: Vec<Vec<&str>> = groups
        .lines()
        .map(|l| l.split(':').collect())
        .filter(|f: &Vec<&str>| f.len() >= 3)
        .collect();
    if let Some(g) = group {
        gid = group_lines
            .iter()
            .find(|f| f[0] == g || f[2] == g)
            .and_then(|f| f[2].parse().ok())
            .or_else(|| g.parse().ok());
    }
    let mut gids: Vec<u32> = gid.into_iter().collect();
    for f in &group_lines {
        if f.len() >= 4
            && f[3].split(',').any(|m| m == name)
            && let Ok(g) = f[2].parse()
            && !gids.contains(&g)
        {
            gids.push(g);
        }
    }
    let group_name = gids
        .first()
        .and_then(|g| {
            group_lines
                .iter()
                .find(|f| f[2].parse::<u32>().ok() == Some(*g))
                .map(|f| f[0].to_string())
        })
        .unwrap_or_else(|| gids.first().map(|g| g.to_string()).unwrap_or_default());
    Some(Account {
        name,
        uid,
        gids,
        group: group_name,
    })
}

/// A file's owner, group and mode bits.
#[cfg(unix)]
fn ownership(meta: &std::fs::Metadata) -> (u32, u32, u32) {
    (meta.uid(), meta.gid(), meta.mode())
}

/// Windows has no owner uid or mode bits: the library never judges permissions there
/// (`run_lint` says "not on Windows"); this only keeps the crate compiling.
#[cfg(not(unix))]
fn ownership(_meta: &std::fs::Metadata) -> (u32, u32, u32) {
    (0, 0, 0o777)
}

/// Which permission triplet applies to `who` for a file: `u`, `g` or `o`, and its bits (rwx).
fn class(meta: &std::fs::Metadata, who: &Account) -> (char, u32) {
    let (uid, gid, mode) = ownership(meta);
    if uid == who.uid {
        ('u', (mode >> 6) & 7)
    } else if who.gids.contains(&gid) {
        ('g', (mode >> 3) & 7)
    } else {
        ('o', mode & 7)
    }
}

/// One path the user cannot use as nginx needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The path.
    pub path: PathBuf,
    /// `x` (a directory to traverse) or `r` (a file to read).
    pub needs: char,
    /// The triplet that applies (`u`, `g`, `o`), or `a` when an access ACL decided.
    pub class: char,
    /// `ls -l`-style mode and owner, for the evidence.
    pub mode: String,
}

impl Denied {
    fn fix(&self, who: &Account) -> String {
        if self.class == 'a' {
            // The ACL decides: give the user its own entry (and let the mask through).
            return format!(
                "setfacl -m u:{}:{},m::r{} {}",
                who.name,
                self.needs,
                if self.needs == 'x' { "x" } else { "" },
                shell_quote(&self.path)
            );
        }
        format!(
            "chmod {}+{} {}",
            self.class,
            self.needs,
            shell_quote(&self.path)
        )
    }
}

fn shell_quote(p: &Path) -> String {
    let s = p.to_string_lossy();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+@%:".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn mode_text(meta: &std::fs::Metadata) -> String {
    let (uid, gid, m) = ownership(meta);
    let mut s = String::from(if meta.is_dir() { "d" } else { "-" });
    for shift in [6, 3, 0] {
        let b = (m >> shift) & 7;
        s.push(if b & 4 != 0 { 'r' } else { '-' });
        s.push(if b & 2 != 0 { 'w' } else { '-' });
        s.push(if b & 1 != 0 { 'x' } else { '-' });
    }
    format!("{s} {uid}:{gid}")
}

fn check(path: &Path, meta: &std::fs::Metadata, who: &Account) -> Option<Denied> {
    if who.uid == 0 {
        return None;
    }
    let (class, bits) = class(meta, who);
    let (needs, bit) = if meta.is_dir() { ('x', 1) } else { ('r', 4) };
    // An ACL with named entries decides instead of the bits, as the kernel does.
    if let Some(acl) = crate::acl::Acl::read(path) {
        let (uid, gid, _) = ownership(meta);
        return (!acl.allows(who.uid, &who.gids, uid, gid, bit)).then(|| Denied {
            path: path.to_path_buf(),
            needs,
            class: 'a',
            mode: format!("{} with an access ACL", mode_text(meta)),
        });
    }
    (bits & bit == 0).then(|| Denied {
        path: path.to_path_buf(),
        needs,
        class,
        mode: mode_text(meta),
    })
}

/// Every directory from `/` to `root` and everything under `root` (symbolic links followed for
/// the check, not descended into), at most [`MAX_ENTRIES`]; below a directory the user cannot
/// traverse, nothing more is listed (that directory is the fix). Returns the denied paths and
/// how many entries were examined.
pub fn denied_paths(root: &Path, who: &Account) -> (Vec<Denied>, usize, bool) {
    let mut denied = Vec::new();
    let mut seen = 0usize;
    let ancestors: Vec<&Path> = root.ancestors().skip(1).collect();
    for dir in ancestors.into_iter().rev() {
        if let Ok(meta) = std::fs::metadata(dir)
            && let Some(d) = check(dir, &meta, who)
        {
            denied.push(d);
        }
    }
    let mut stack = vec![root.to_path_buf()];
    let mut truncated = false;
    while let Some(path) = stack.pop() {
        seen += 1;
        if seen > MAX_ENTRIES {
            truncated = true;
            break;
        }
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if let Some(d) = check(&path, &meta, who) {
            denied.push(d);
            if meta.is_dir() {
                continue;
            }
        }
        let is_real_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if is_real_dir && let Ok(entries) = std::fs::read_dir(&path) {
            let mut children: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            children.sort();
            stack.extend(children.into_iter().rev());
        }
    }
    (denied, seen.min(MAX_ENTRIES), truncated)
}

/// A hint when a mandatory access control system may deny what the bits allow.
pub fn mac_hint() -> Option<String> {
    if std::fs::read_to_string("/sys/fs/selinux/enforce").is_ok_and(|s| s.trim() == "1") {
        return Some("SELinux is enforcing: the files also need a label nginx may read (`ls -Z`; `restorecon -R` or `chcon -R -t httpd_sys_content_t`); denials are in the audit log (`ausearch -m avc`)".into());
    }
    if std::fs::read_to_string("/sys/kernel/security/apparmor/profiles")
        .is_ok_and(|s| s.contains("nginx"))
    {
        return Some("an AppArmor profile for nginx is loaded: it may deny paths the bits allow (`dmesg | grep DENIED`)".into());
    }
    None
}

/// The finding, when anything is denied. `who_from` says where the user came from.
pub fn permission_findings(root: &Path, who: &Account, who_from: &str) -> Vec<Finding> {
    let (denied, seen, truncated) = denied_paths(root, who);
    if denied.is_empty() {
        return Vec::new();
    }
    let first = &denied[0];
    let mut f = LintFinding::new(
        Code::IL610,
        format!(
            "{} ({who_from}, uid {}) cannot {} {}{}: nginx answers 403 for the files below it.",
            who.name,
            who.uid,
            if first.needs == 'x' { "enter" } else { "read" },
            first.path.display(),
            if denied.len() > 1 {
                format!(", and {} more path(s) are denied", denied.len() - 1)
            } else {
                String::new()
            }
        ),
    )
    .at(first.path.display().to_string());
    for d in denied.iter().take(SHOWN) {
        f = f.stat(
            d.path.display().to_string(),
            format!(
                "{} (needs {}+{} for {})",
                d.mode, d.class, d.needs, who.name
            ),
        );
    }
    if truncated {
        f = f.stat("examined", format!("the first {seen} entries only"));
    }
    if let Some(hint) = mac_hint() {
        f = f.stat("access control", hint);
    }
    let fix = if denied.len() <= 3 {
        denied
            .iter()
            .map(|d| d.fix(who))
            .collect::<Vec<_>>()
            .join(" && ")
    } else {
        let outside: Vec<String> = denied
            .iter()
            .filter(|d| !d.path.starts_with(root))
            .map(|d| d.fix(who))
            .collect();
        let mut lines = outside;
        lines.push(format!("chmod -R o+rX {}", shell_quote(root)));
        format!(
            "{} (or give the files to the user: chown -R {}:{} {})",
            lines.join(" && "),
            who.name,
            who.group,
            shell_quote(root)
        )
    };
    vec![f.fix(fix).build()]
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
    const GROUP: &str =
        "root:x:0:\nwww-data:x:33:\nstatic:x:1500:www-data,alice\nnogroup:x:65534:\n";

    #[test]
    fn accounts_come_from_passwd_and_group() {
        let a = resolve_account("www-data", None, PASSWD, GROUP).expect("known");
        assert_eq!(
            (a.uid, a.gids.clone(), a.group.as_str()),
            (33, vec![33, 1500], "www-data")
        );
        let n = resolve_account("nobody", Some("nogroup"), PASSWD, GROUP).expect("known");
        assert_eq!(n.gids, vec![65534]);
        let numeric = resolve_account("4242", None, PASSWD, GROUP).expect("a number is a uid");
        assert_eq!((numeric.uid, numeric.gids.len()), (4242, 0));
        assert_eq!(resolve_account("ghost", None, PASSWD, GROUP), None);
    }

    #[test]
    fn a_directory_without_x_for_others_is_the_one_denied_path() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("static");
        std::fs::create_dir_all(root.join("css")).expect("mkdir");
        std::fs::write(root.join("css/site.css"), "body{}").expect("write");
        for p in [tmp.path(), root.as_path()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        std::fs::set_permissions(
            root.join("css/site.css"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        std::fs::set_permissions(root.join("css"), std::fs::Permissions::from_mode(0o750))
            .expect("chmod");
        let who = Account {
            name: "tester".into(),
            uid: 4242,
            gids: vec![4242],
            group: "tester".into(),
        };
        let (denied, _, _) = denied_paths(&root, &who);
        let under: Vec<&Denied> = denied
            .iter()
            .filter(|d| d.path.starts_with(&root))
            .collect();
        assert_eq!(under.len(), 1, "{denied:?}");
        assert_eq!(under[0].path, root.join("css"));
        assert_eq!(
            under[0].fix(&who),
            format!("chmod o+x {}", root.join("css").display())
        );
        // An access ACL entry for the user lets it through what the bits deny (written as
        // `setfacl -m u:4242:x,m::rx` would; skipped where the file system keeps no ACLs).
        let mut acl = 2u32.to_le_bytes().to_vec();
        for (tag, perm, id) in [
            (1u16, 7u16, 0u32),
            (2, 1, 4242),
            (4, 5, 0),
            (0x10, 5, 0),
            (0x20, 0, 0),
        ] {
            acl.extend(tag.to_le_bytes());
            acl.extend(perm.to_le_bytes());
            acl.extend(id.to_le_bytes());
        }
        match rustix::fs::setxattr(
            root.join("css"),
            "system.posix_acl_access",
            &acl,
            rustix::fs::XattrFlags::empty(),
        ) {
            Ok(()) => {
                let (denied, _, _) = denied_paths(&root, &who);
                assert!(
                    !denied.iter().any(|d| d.path == root.join("css")),
                    "{denied:?}"
                );
                // And a user the ACL does not name is told the setfacl line.
                let other = Account {
                    name: "other".into(),
                    uid: 4343,
                    gids: vec![4343],
                    group: "other".into(),
                };
                let (denied, _, _) = denied_paths(&root, &other);
                let css = denied
                    .iter()
                    .find(|d| d.path == root.join("css"))
                    .expect("denied");
                assert_eq!(
                    css.fix(&other),
                    format!("setfacl -m u:other:x,m::rx {}", root.join("css").display())
                );
            }
            Err(e) => eprintln!("skipped the ACL part: this file system keeps no ACLs ({e})"),
        }
        // Root reads everything.
        let root_user = Account { uid: 0, ..who };
        assert!(denied_paths(&root, &root_user).0.is_empty());
    }
}
