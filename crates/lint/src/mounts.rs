//! Mounts over STATIC_ROOT, from `/proc/self/mountinfo` (or a copy of a container's).

use std::path::Path;

use interloper_findings::{Code, Finding, Severity};

use crate::finding::LintFinding;

/// One line of mountinfo (proc(5)): `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// 1-based line in the file.
    pub line: usize,
    /// The directory of the source file system that is mounted (`/` for a whole file system;
    /// a subdirectory for a bind mount or a Docker volume's `_data`).
    pub root: String,
    /// Where it is mounted.
    pub mount_point: String,
    /// File system type.
    pub fstype: String,
    /// Mount source (device, volume, `overlay`).
    pub source: String,
    /// The line as read.
    pub text: String,
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads mountinfo text; lines that are not mountinfo are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let sep = fields.iter().position(|f| *f == "-")?;
            if sep < 6 || fields.len() < sep + 3 {
                return None;
            }
            Some(Mount {
                line: i + 1,
                root: unescape(fields[3]),
                mount_point: unescape(fields[4]),
                fstype: fields[sep + 1].to_string(),
                source: unescape(fields[sep + 2]),
                text: l.chars().take(500).collect(),
            })
        })
        .collect()
}

/// File systems whose content comes from elsewhere than the image or disk below.
const VOLUME_TYPES: &[&str] = &[
    "tmpfs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "9p",
    "virtiofs",
    "fuse",
    "ceph",
    "glusterfs",
];

/// The mount over STATIC_ROOT or its nearest parent (not `/`): a warning when it is a bind
/// mount, volume or network/memory file system (its content replaces what the image holds),
/// a note when it is a whole local file system.
pub fn mount_findings(mounts: &[Mount], static_root: &Path, source: &str) -> Vec<Finding> {
    let root = static_root.to_string_lossy();
    let root = root.trim_end_matches('/');
    let covering = mounts.iter().filter(|m| {
        let mp = m.mount_point.trim_end_matches('/');
        !mp.is_empty() && (root == mp || root.starts_with(&format!("{mp}/")))
    });
    // The deepest, and of those the last mounted: that is what is visible.
    let Some(m) = covering.max_by_key(|m| (m.mount_point.len(), m.line)) else {
        return Vec::new();
    };
    let volume = m.root != "/"
        || VOLUME_TYPES
            .iter()
            .any(|t| m.fstype == *t || m.fstype.starts_with("fuse."));
    let over = if m.mount_point.trim_end_matches('/') == root {
        "on STATIC_ROOT itself".to_string()
    } else {
        format!("on {}, above STATIC_ROOT", m.mount_point)
    };
    let kind = if m.root != "/" {
        format!(
            "a bind mount or volume ({} of {} {})",
            m.root, m.fstype, m.source
        )
    } else {
        format!("{} {}", m.fstype, m.source)
    };
    let f = LintFinding::new(
        Code::IL618,
        format!(
            "{kind} is mounted {over} ({}): the files there are the mount's, not the ones collected into the image.",
            static_root.display()
        ),
    )
    .severity(if volume { Severity::Warning } else { Severity::Info })
    .at(format!("{source}:{}", m.line))
    .config_line(format!("{source}:{}", m.line), m.text.clone())
    .fix(format!(
        "run `manage.py collectstatic --noinput` against the mounted {} at start-up, or mount the volume elsewhere",
        m.mount_point
    ))
    .build();
    vec![f]
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "\
22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u
23 22 0:22 / /proc rw,nosuid - proc proc rw
40 22 8:1 /var/lib/docker/volumes/static/_data /app/static rw,relatime - ext4 /dev/sda1 rw
41 22 8:1 /home/me/my\\040project /app/src rw - ext4 /dev/sda1 rw
";

    #[test]
    fn a_volume_over_static_root_is_named_with_its_line() {
        let mounts = parse_mountinfo(INFO);
        assert_eq!(mounts.len(), 4);
        assert_eq!(mounts[3].root, "/home/me/my project");
        let f = mount_findings(&mounts, Path::new("/app/static/"), "/proc/self/mountinfo");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].subject.as_deref(), Some("/proc/self/mountinfo:3"));
        assert!(mount_findings(&mounts, Path::new("/srv/static"), "m").is_empty());
        assert!(mount_findings(&mounts, Path::new("/app/staticx"), "m").is_empty());
    }
}
