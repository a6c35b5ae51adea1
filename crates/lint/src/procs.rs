//! Who nginx's workers really run as, read from the running processes.
//!
//! The `user` directive is only a wish: a master not started as root cannot switch users, so
//! it ignores the directive (with a warning few read) and its workers run as the master's
//! own user — the usual case in containers (`nginx-unprivileged` images, `USER` in a
//! Dockerfile). When the nginx whose configuration lint reads is running here, its workers'
//! effective uid, gid and groups in /proc are the truth the kernel checks.

use std::path::{Path, PathBuf};

use crate::perms::Account;

/// Where nginx looks for its configuration without `-c` (Debian's and nginx.org's builds).
const DEFAULT_CONF: &str = "/etc/nginx/nginx.conf";
/// /proc entries examined at most.
const MAX_PROCESSES: usize = 100_000;
/// Bytes read of a process's cmdline or status.
const MAX_PROC_FILE: u64 = 64 * 1024;

/// A running nginx worker of the master reading `conf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningWorker {
    /// Its pid.
    pub pid: u32,
    /// Who it runs as.
    pub account: Account,
}

/// The configuration file an nginx master was started with, from its rewritten command line
/// (`nginx: master process /usr/sbin/nginx -p PREFIX -c FILE`): `-c` (relative to `-p`), else
/// [`DEFAULT_CONF`]. `None` for anything that is not an nginx master.
pub fn master_conf(cmdline: &str) -> Option<PathBuf> {
    let args = cmdline
        .trim_end_matches('\0')
        .strip_prefix("nginx: master process ")?;
    let words: Vec<&str> = args.split([' ', '\0']).filter(|w| !w.is_empty()).collect();
    let value = |flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .and_then(|i| words.get(i + 1))
            .map(|v| PathBuf::from(*v))
    };
    let conf = value("-c").unwrap_or_else(|| PathBuf::from(DEFAULT_CONF));
    Some(match value("-p") {
        Some(prefix) if conf.is_relative() => prefix.join(conf),
        _ => conf,
    })
}

/// The effective account of a process from its /proc status (`Uid:`, `Gid:`, `Groups:`),
/// named from /etc/passwd and /etc/group text.
pub fn status_account(status: &str, passwd: &str, groups: &str) -> Option<Account> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|rest| rest.split_whitespace().collect::<Vec<_>>())
    };
    // Real, effective, saved, filesystem: the kernel checks file access with the last, which
    // follows the effective one.
    let uid: u32 = field("Uid:")?.get(3)?.parse().ok()?;
    let gid: u32 = field("Gid:")?.get(3)?.parse().ok()?;
    let mut gids = vec![gid];
    for g in field("Groups:").unwrap_or_default() {
        if let Ok(g) = g.parse::<u32>()
            && !gids.contains(&g)
        {
            gids.push(g);
        }
    }
    let name_of = |text: &str, id: u32| {
        text.lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() >= 3 && f.get(2).and_then(|v| v.parse::<u32>().ok()) == Some(id))
            .and_then(|f| f.first().map(|n| (*n).to_string()))
            .unwrap_or_else(|| id.to_string())
    };
    Some(Account {
        name: name_of(passwd, uid),
        uid,
        gids,
        group: name_of(groups, gid),
    })
}

fn read_small(path: &Path) -> Option<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_PROC_FILE)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// The same file, by name or by what the names resolve to.
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// A worker of the nginx master running with configuration `conf`, found under `proc_root`
/// (`/proc`). `None` when no such nginx runs here (a configuration copied from elsewhere).
pub fn nginx_worker(
    proc_root: &Path,
    conf: &Path,
    passwd: &str,
    groups: &str,
) -> Option<RunningWorker> {
    let pids: Vec<u32> = std::fs::read_dir(proc_root)
        .ok()?
        .take(MAX_PROCESSES)
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let masters: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|pid| {
            read_small(&proc_root.join(pid.to_string()).join("cmdline"))
                .and_then(|c| master_conf(&c))
                .is_some_and(|c| same_file(&c, conf))
        })
        .collect();
    pids.iter().find_map(|&pid| {
        let dir = proc_root.join(pid.to_string());
        let cmdline = read_small(&dir.join("cmdline"))?;
        if !cmdline.starts_with("nginx: worker process") {
            return None;
        }
        let status = read_small(&dir.join("status"))?;
        let parent: u32 = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))?
            .trim()
            .parse()
            .ok()?;
        if !masters.contains(&parent) {
            return None;
        }
        Some(RunningWorker {
            pid,
            account: status_account(&status, passwd, groups)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masters_configuration_comes_from_its_command_line() {
        assert_eq!(
            master_conf("nginx: master process nginx -p /srv/n -c /srv/n/nginx.conf\0\0"),
            Some(PathBuf::from("/srv/n/nginx.conf"))
        );
        assert_eq!(
            master_conf("nginx: master process nginx -p /srv/n/ -c conf/nginx.conf"),
            Some(PathBuf::from("/srv/n/conf/nginx.conf"))
        );
        assert_eq!(
            master_conf("nginx: master process /usr/sbin/nginx -g daemon off;"),
            Some(PathBuf::from(DEFAULT_CONF))
        );
        assert_eq!(master_conf("nginx: worker process"), None);
        assert_eq!(master_conf("/usr/bin/python3 app.py"), None);
    }

    #[test]
    fn the_account_is_the_effective_one_with_its_groups() {
        let status = "Name:\tnginx\nPPid:\t7\nUid:\t0\t101\t101\t101\nGid:\t0\t101\t101\t101\nGroups:\t101 33 \n";
        let passwd = "root:x:0:0::/root:/bin/sh\nnginx:x:101:101::/:/sbin/nologin\n";
        let groups = "nginx:x:101:\nwww-data:x:33:nginx\n";
        let a = status_account(status, passwd, groups).expect("parses");
        assert_eq!((a.name.as_str(), a.uid), ("nginx", 101));
        assert_eq!(a.gids, vec![101, 33]);
        assert_eq!(a.group, "nginx");
        // Unknown ids are shown as numbers.
        let a = status_account(status, "", "").expect("parses");
        assert_eq!((a.name.as_str(), a.group.as_str()), ("101", "101"));
        assert_eq!(status_account("Name:\tx\n", passwd, groups), None);
    }
}
