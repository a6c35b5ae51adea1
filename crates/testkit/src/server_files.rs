//! What `lint` reads on a server, laid out for a test: a static tree nginx's workers can read
//! and a mount table of the root file system only. The binary's and the library's lint tests
//! both start from these.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// The content of `static/css/site.css` in [`static_tree`].
pub const STATIC_CSS: &str = "body { color: red }\n";

/// `ROOT/static/css/site.css` and `ROOT/static/js/app.js`, readable by everyone (the temporary
/// directory itself included, so nginx's workers can enter it); returns `ROOT/static`.
pub fn static_tree(root: &Path) -> PathBuf {
    let s = root.join("static");
    std::fs::create_dir_all(s.join("css")).expect("mkdir");
    std::fs::create_dir_all(s.join("js")).expect("mkdir");
    std::fs::write(s.join("css/site.css"), STATIC_CSS).expect("write");
    std::fs::write(s.join("js/app.js"), "console.log(1);\n").expect("write");
    for (p, mode) in [
        (root.to_path_buf(), 0o755),
        (s.clone(), 0o755),
        (s.join("css"), 0o755),
        (s.join("js"), 0o755),
        (s.join("css/site.css"), 0o644),
        (s.join("js/app.js"), 0o644),
    ] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    s
}

/// A mount table holding only the root file system (plus `extra` lines), so a test does not
/// depend on how this machine mounts /tmp.
pub fn root_only_mountinfo(dir: &Path, extra: &str) -> PathBuf {
    let p = dir.join("mountinfo");
    std::fs::write(
        &p,
        format!("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n{extra}"),
    )
    .expect("write");
    p
}
