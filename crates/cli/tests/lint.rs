//! `interloper lint` against real things: nginx configurations that `nginx -t` accepts, each
//! with one seeded mistake, shown to really misbehave (the file requested from that nginx on
//! loopback answers 404, 403 or the wrong type) and named by lint with its file:line or path
//! and fix; a clean baseline; a real Django project after collectstatic with a missing hashed
//! file, an altered one, a stale file, a mount over STATIC_ROOT and another instance's manifest.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{codes, interloper, json};
use interloper_testkit::{
    DjangoSite, Nginx, NginxOptions, STATIC_CSS as CSS, Spawned, root_only_mountinfo as mountinfo,
    static_tree,
};
use serde_json::Value;

/// Status and Content-Type of `GET path` from nginx's plain HTTP port.
fn get(nginx: &Nginx, path: &str) -> (u16, String) {
    nginx.get_plain(path)
}

/// `nginx -t` accepts the running instance's configuration.
fn nginx_t_accepts(nginx: &Nginx) {
    let out = Command::new("/usr/sbin/nginx")
        .arg("-t")
        .arg("-p")
        .arg(&nginx.dir)
        .arg("-c")
        .arg(nginx.dir.join("nginx.conf"))
        .output()
        .expect("nginx -t");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn start(server_conf: String, tweak: impl FnOnce(&mut NginxOptions)) -> Nginx {
    let mut opts = NginxOptions {
        extra_server_conf: server_conf,
        ..Default::default()
    };
    tweak(&mut opts);
    let nginx = Nginx::start(opts).expect("nginx");
    nginx_t_accepts(&nginx);
    nginx
}

fn lint(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["lint", "--json"];
    all.extend_from_slice(args);
    let out = interloper(&all);
    let report = json(&out);
    let why = serde_json::to_string_pretty(&report).unwrap_or_default();
    (out.status.code().unwrap_or(-1), report, why)
}

/// The findings with `code`.
fn with_code<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// The configuration line a `file:line` target names.
fn line_at(target: &str) -> String {
    let (file, line) = target.rsplit_once(':').expect("file:line");
    let n: usize = line.parse().expect("line number");
    std::fs::read_to_string(file)
        .expect("config")
        .lines()
        .nth(n - 1)
        .unwrap_or_default()
        .to_string()
}

fn serious(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| f["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_correct_static_location_is_clean() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let nginx = start(
        format!(
            "location /static/ {{ alias {}/; expires max; }}",
            root.display()
        ),
        |_| {},
    );
    assert_eq!(
        get(&nginx, "/static/css/site.css"),
        (200, "text/css".into())
    );
    let conf = nginx.dir.join("nginx.conf");
    let mi = mountinfo(dir.path(), "");
    let (code, report, why) = lint(&[
        "--nginx-config",
        conf.to_str().expect("utf-8"),
        "--static-root",
        root.to_str().expect("utf-8"),
        "--mountinfo",
        mi.to_str().expect("utf-8"),
    ]);
    assert_eq!(report["schema"], "interloper.lint/v1");
    assert_eq!(serious(&report), Vec::<String>::new(), "{why}");
    assert_eq!(report["verdict"]["status"], "clean", "{why}");
    assert_eq!(code, 0, "{why}");
}

#[test]
fn alias_without_its_trailing_slash_is_a_404_and_named_at_its_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let nginx = start(
        format!(
            "location /static/ {{\n    alias {};\n    expires max;\n}}",
            root.display()
        ),
        |_| {},
    );
    assert_eq!(get(&nginx, "/static/css/site.css").0, 404);
    let conf = nginx.dir.join("nginx.conf");
    let (code, report, why) = lint(&[
        "--nginx-config",
        conf.to_str().expect("utf-8"),
        "--static-root",
        root.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 1, "{why}");
    assert_eq!(report["verdict"]["root_cause"], "IL602", "{why}");
    let f = with_code(&report, "IL602");
    let target = f[0]["target"].as_str().expect("target");
    assert!(target.starts_with(conf.to_str().expect("utf-8")), "{why}");
    assert!(
        line_at(target).contains(&format!("alias {};", root.display())),
        "{why}"
    );
    assert!(
        f[0]["remedy"]
            .as_str()
            .expect("remedy")
            .contains(&format!("alias {}/;", root.display())),
        "{why}"
    );

    // The same from `nginx -T` output saved to a file: file:line from its markers.
    let dump = Command::new("/usr/sbin/nginx")
        .arg("-T")
        .arg("-p")
        .arg(&nginx.dir)
        .arg("-c")
        .arg(&conf)
        .output()
        .expect("nginx -T");
    assert!(dump.status.success());
    let saved = dir.path().join("nginx-T.txt");
    std::fs::write(&saved, &dump.stdout).expect("write");
    let (_, from_dump, why) = lint(&["--nginx-config", saved.to_str().expect("utf-8")]);
    assert_eq!(
        with_code(&from_dump, "IL602")[0]["target"].as_str(),
        Some(target),
        "{why}"
    );

    // `--nginx-t` runs nginx -T itself (here through a wrapper naming this instance's files).
    let wrapper = dir.path().join("nginx");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec /usr/sbin/nginx -p '{}' -c '{}' \"$@\"\n",
            nginx.dir.display(),
            conf.display()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (_, ran, why) = lint(&["--nginx-t", "--nginx", wrapper.to_str().expect("utf-8")]);
    assert_eq!(
        with_code(&ran, "IL602")[0]["target"].as_str(),
        Some(target),
        "{why}"
    );
    // A configuration nginx refuses: its own message, exit 2.
    let broken = dir.path().join("broken.conf");
    std::fs::write(
        &broken,
        "events {}\nhttp {\n  server { location / { alais /x; } }\n}\n",
    )
    .expect("write");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec /usr/sbin/nginx -p '{d}' -e '{d}/broken.log' -c '{}' \"$@\"\n",
            broken.display(),
            d = dir.path().display()
        ),
    )
    .expect("write");
    let out = interloper(&[
        "lint",
        "--nginx-t",
        "--nginx",
        wrapper.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown directive \"alais\""), "{err}");

    // For a person: the terminal report and the HTML page say the same.
    let page = dir.path().join("lint.html");
    let out = interloper(&[
        "lint",
        "--nginx-config",
        conf.to_str().expect("utf-8"),
        "--html",
        page.to_str().expect("utf-8"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("FAILING"), "{text}");
    assert!(text.contains("IL602") && text.contains(target), "{text}");
    let html = std::fs::read_to_string(&page).expect("html");
    assert!(
        html.contains("IL602") && html.contains("interloper.lint/v1"),
        "{html}"
    );
}

#[test]
fn a_regex_location_swallowing_static_files_is_a_404_and_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let nginx = start(
        format!(
            "location /static/ {{ alias {}/; expires max; }}\nlocation ~* \\.(css|js)$ {{ expires 1d; }}",
            root.display()
        ),
        |_| {},
    );
    // The regex location looks in the server's root (www/static/…), where nothing is.
    assert_eq!(get(&nginx, "/static/css/site.css").0, 404);
    let conf = nginx.dir.join("nginx.conf");
    let (code, report, why) = lint(&["--nginx-config", conf.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{why}");
    let f = with_code(&report, "IL604");
    assert!(!f.is_empty(), "{why}");
    assert!(
        line_at(f[0]["target"].as_str().expect("target")).contains("location ~*"),
        "{why}"
    );
    assert!(
        f[0]["remedy"]
            .as_str()
            .expect("remedy")
            .contains("location ^~ /static/"),
        "{why}"
    );
}

/// Nested locations, selected as nginx selects them: a nested regex inherits the outer alias
/// (served, clean); a nested static location does not shield from the server's regex, even
/// with `^~` (not served, IL604), which nginx itself confirms.
#[test]
fn nested_locations_are_judged_as_nginx_selects_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let root_s = root.to_str().expect("utf-8").to_string();
    let mi = mountinfo(dir.path(), "");
    let run = |conf: &Path| {
        lint(&[
            "--nginx-config",
            conf.to_str().expect("utf-8"),
            "--static-root",
            &root_s,
            "--mountinfo",
            mi.to_str().expect("utf-8"),
        ])
    };

    let nested = start(
        format!(
            "location /static/ {{\n  alias {}/; expires max;\n  location ~* \\.(css|js)$ {{ expires 1y; }}\n}}",
            root.display()
        ),
        |_| {},
    );
    assert_eq!(
        get(&nested, "/static/css/site.css"),
        (200, "text/css".into())
    );
    let (code, report, why) = run(&nested.dir.join("nginx.conf"));
    assert_eq!(serious(&report), Vec::<String>::new(), "{why}");
    assert_eq!(code, 0, "{why}");
    drop(nested);

    let swallowed = start(
        format!(
            "location /static/ {{\n  location ^~ /static/ {{ alias {}/; expires max; }}\n}}\nlocation ~* \\.(css|js)$ {{ expires 1d; }}",
            root.display()
        ),
        |_| {},
    );
    // The server's regex takes it and looks in the server's root, where nothing is.
    assert_eq!(get(&swallowed, "/static/css/site.css").0, 404);
    let (code, report, why) = run(&swallowed.dir.join("nginx.conf"));
    assert_eq!(code, 1, "{why}");
    let f = with_code(&report, "IL604");
    assert!(!f.is_empty(), "{why}");
    assert!(
        line_at(f[0]["target"].as_str().expect("target")).contains("location ~*"),
        "{why}"
    );
}

#[test]
fn types_not_included_under_nosniff_is_the_wrong_type_and_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let nginx = start(
        format!(
            "location /static/ {{ alias {}/; expires max; add_header X-Content-Type-Options nosniff; }}",
            root.display()
        ),
        |o| o.omit_mime_types = true,
    );
    let (status, ctype) = get(&nginx, "/static/css/site.css");
    assert_eq!(status, 200);
    assert_eq!(
        ctype, "application/octet-stream",
        "a browser refuses this stylesheet under nosniff"
    );
    let conf = nginx.dir.join("nginx.conf");
    let (code, report, why) = lint(&["--nginx-config", conf.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{why}");
    let f = with_code(&report, "IL606");
    assert_eq!(f[0]["severity"], "error", "{why}");
    assert!(
        f[0]["summary"]
            .as_str()
            .expect("summary")
            .contains("application/octet-stream"),
        "{why}"
    );
}

/// Whether /etc/passwd and /etc/group know `nobody` and `nogroup`.
fn has_nobody() -> bool {
    let p = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let g = std::fs::read_to_string("/etc/group").unwrap_or_default();
    p.lines().any(|l| l.starts_with("nobody:")) && g.lines().any(|l| l.starts_with("nogroup:"))
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// nginx started as `nobody` (as in an unprivileged container): it ignores `user www-data`
/// and its workers run as nobody, who cannot enter a directory only www-data may. nginx
/// answers 403; lint finds the running workers of that configuration, judges permissions for
/// nobody (IL610), and says the `user` directive is not in effect.
#[test]
fn a_master_not_started_as_root_is_judged_by_its_workers_real_user() {
    use std::os::unix::fs::chown;
    let www_data = std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("www-data:x:33:33:"));
    if !is_root() || !has_nobody() || !www_data {
        eprintln!("skipped: needs root (to start nginx as nobody), nobody and www-data (33)");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let root = static_tree(dir.path());
    // Only www-data may enter the static files.
    for entry in ["", "css", "css/site.css", "js", "js/app.js"] {
        chown(root.join(entry), Some(33), Some(33)).expect("chown");
    }
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    let prefix = dir.path().join("nginx");
    std::fs::create_dir_all(prefix.join("tmp")).expect("prefix");
    for entry in ["", "tmp"] {
        chown(prefix.join(entry), Some(65534), Some(65534)).expect("chown");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let p = prefix.display();
    let conf = prefix.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "user www-data;\ndaemon off;\nworker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/error.log;\n\
             events {{ worker_connections 64; }}\nhttp {{\n  types {{ text/css css; application/javascript js; }}\n  \
             access_log off;\n  client_body_temp_path {p}/tmp/body;\n  proxy_temp_path {p}/tmp/proxy;\n  \
             fastcgi_temp_path {p}/tmp/fastcgi;\n  uwsgi_temp_path {p}/tmp/uwsgi;\n  scgi_temp_path {p}/tmp/scgi;\n  \
             server {{\n    listen 127.0.0.1:{port};\n    root {p}/www;\n    \
             location /static/ {{ alias {}/; expires max; }}\n  }}\n}}\n",
            root.display()
        ),
    )
    .expect("conf");
    let mut setpriv = Command::new("setpriv");
    setpriv
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/sbin/nginx",
        ])
        .arg("-p")
        .arg(&prefix)
        .arg("-e")
        .arg(prefix.join("error.log"))
        .arg("-c")
        .arg(&conf);
    // One process group: dropping the guard kills the master and its workers.
    let mut nginx_as_nobody = Spawned::start(setpriv).expect("nginx as nobody");
    if let Err(e) = nginx_as_nobody.wait_for_ports(&[port], Duration::from_secs(10)) {
        panic!(
            "nginx as nobody did not start: {e:#}\nerror.log:\n{}",
            std::fs::read_to_string(prefix.join("error.log")).unwrap_or_default()
        );
    }
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET /static/css/site.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    let _ = s.take(1 << 16).read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");

    let mi = mountinfo(dir.path(), "");
    let (code, report, why) = lint(&[
        "--nginx-config",
        conf.to_str().expect("utf-8"),
        "--static-root",
        root.to_str().expect("utf-8"),
        "--mountinfo",
        mi.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 1, "{why}");
    let f = with_code(&report, "IL610");
    assert_eq!(f.len(), 1, "{why}");
    assert_eq!(f[0]["target"].as_str(), root.to_str(), "{why}");
    let input = |name: &str| {
        report["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["name"] == name)
            .and_then(|i| i["value"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let user = input("web server user");
    assert!(
        user.starts_with("nobody (uid 65534, its running worker, pid "),
        "{why}"
    );
    assert!(
        input("nginx user").contains("names www-data (uid 33)"),
        "{why}"
    );
}

#[test]
fn a_directory_without_x_for_the_worker_user_is_a_403_and_named_with_its_chmod() {
    if !is_root() || !has_nobody() {
        eprintln!("skipped: needs root (to run nginx workers as nobody) and nobody/nogroup");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    // Root owns it; nobody is "other", and others may not enter.
    let css = root.join("css");
    std::fs::set_permissions(&css, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    let nginx = start(
        format!(
            "location /static/ {{ alias {}/; expires max; }}",
            root.display()
        ),
        |o| o.user = Some("nobody nogroup".into()),
    );
    assert_eq!(get(&nginx, "/static/css/site.css").0, 403);
    assert_eq!(get(&nginx, "/static/js/app.js").0, 200);
    let conf = nginx.dir.join("nginx.conf");
    let args = [
        "--nginx-config",
        conf.to_str().expect("utf-8"),
        "--static-root",
        root.to_str().expect("utf-8"),
    ];
    let (code, report, why) = lint(&args);
    assert_eq!(code, 1, "{why}");
    let f = with_code(&report, "IL610");
    assert_eq!(f.len(), 1, "{why}");
    assert_eq!(f[0]["target"].as_str(), css.to_str(), "{why}");
    let fix = format!("chmod o+x {}", css.display());
    assert!(
        f[0]["remedy"].as_str().expect("remedy").contains(&fix),
        "{why}"
    );

    // The fix lint gives makes nginx serve the file, and lint stops naming it.
    std::fs::set_permissions(&css, std::fs::Permissions::from_mode(0o751)).expect("chmod");
    assert_eq!(get(&nginx, "/static/css/site.css").0, 200);
    let (_, report, why) = lint(&args);
    assert!(with_code(&report, "IL610").is_empty(), "{why}");
}

#[test]
fn a_django_build_with_missing_altered_and_stale_files_under_a_mount() {
    let dir = tempfile::tempdir().expect("tmp");
    let site = DjangoSite::create(&dir.path().join("site")).expect("django site");
    let python = interloper_testkit::venv().expect("venv").join("bin/python");
    let manage = site.dir.join("manage.py");
    let mi_clean = mountinfo(dir.path(), "");
    let base = [
        "--manage",
        manage.to_str().expect("utf-8"),
        "--python",
        python.to_str().expect("utf-8"),
    ];
    let with =
        |more: &[&str]| -> Vec<String> { base.iter().chain(more).map(|s| s.to_string()).collect() };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        lint(&refs)
    };

    // Straight after collectstatic: clean, and the settings were read by Django itself.
    let (code, report, why) = run(with(&["--mountinfo", mi_clean.to_str().expect("utf-8")]));
    assert_eq!(serious(&report), Vec::<String>::new(), "{why}");
    assert_eq!(code, 0, "{why}");
    assert_eq!(
        report["django"]["static_root"],
        site.static_root.to_str().expect("utf-8"),
        "{why}"
    );
    assert!(
        report["django"]["storage"]
            .as_str()
            .expect("storage")
            .contains("ManifestStaticFilesStorage"),
        "{why}"
    );

    let manifest_text =
        std::fs::read_to_string(site.static_root.join("staticfiles.json")).expect("manifest");
    let manifest: Value = serde_json::from_str(&manifest_text).expect("json");
    let paths = manifest["paths"].as_object().expect("paths");
    let gone = paths["admin/css/base.css"]
        .as_str()
        .expect("hashed")
        .to_string();
    let altered = paths["admin/css/login.css"]
        .as_str()
        .expect("hashed")
        .to_string();

    // nginx serving this STATIC_ROOT: the removed file is a 404 for users.
    let nginx = Nginx::start(NginxOptions {
        static_root: Some(site.static_root.clone()),
        ..Default::default()
    })
    .expect("nginx");
    assert_eq!(get(&nginx, &format!("/static/{gone}")).0, 200);
    std::fs::remove_file(site.static_root.join(&gone)).expect("rm");
    assert_eq!(get(&nginx, &format!("/static/{gone}")).0, 404);
    std::fs::write(site.static_root.join(&altered), "/* edited by hand */\n").expect("write");
    std::fs::write(
        site.static_root.join("admin/css/base.0123456789ab.css"),
        "old\n",
    )
    .expect("write");

    // A volume mounted over STATIC_ROOT (as a container's mount table shows it).
    let mi_volume = mountinfo(
        dir.path(),
        &format!(
            "40 27 254:0 /var/lib/docker/volumes/static/_data {} rw,relatime - ext4 /dev/vda rw\n",
            site.static_root.display()
        ),
    );
    let (code, report, why) = run(with(&["--mountinfo", mi_volume.to_str().expect("utf-8")]));
    assert_eq!(code, 1, "{why}");
    let got = codes(&report);
    for c in ["IL614", "IL615", "IL616", "IL618"] {
        assert!(got.contains(&c.to_string()), "{c} missing: {why}");
    }
    // The mount explains the missing files: it is the root cause.
    assert_eq!(report["verdict"]["root_cause"], "IL618", "{why}");
    assert!(
        with_code(&report, "IL614")[0]["summary"]
            .as_str()
            .expect("s")
            .contains(&gone),
        "{why}"
    );
    assert!(
        with_code(&report, "IL615")[0]["summary"]
            .as_str()
            .expect("s")
            .contains(&altered),
        "{why}"
    );
    assert!(
        with_code(&report, "IL616")[0]["summary"]
            .as_str()
            .expect("s")
            .contains("admin/css/base.0123456789ab.css"),
        "{why}"
    );

    // Another instance's manifest with one other hashed name: another build.
    let other = dir.path().join("other-staticfiles.json");
    std::fs::write(
        &other,
        manifest_text.replacen(&gone, "admin/css/base.ffffffffffff.css", 1),
    )
    .expect("write");
    let (_, report, why) = run(with(&[
        "--mountinfo",
        mi_clean.to_str().expect("utf-8"),
        "--compare-manifest",
        other.to_str().expect("utf-8"),
    ]));
    assert!(
        with_code(&report, "IL619")[0]["summary"]
            .as_str()
            .expect("s")
            .starts_with("1 entries"),
        "{why}"
    );
    // The same manifest as the other instance serves it, by URL (fetched by the probe).
    std::fs::copy(&other, nginx.dir.join("www/other-staticfiles.json")).expect("copy");
    let url = format!(
        "http://127.0.0.1:{}/other-staticfiles.json",
        nginx.http_port
    );
    let (_, report, why) = run(with(&[
        "--mountinfo",
        mi_clean.to_str().expect("utf-8"),
        "--compare-manifest",
        &url,
    ]));
    let by_url = with_code(&report, "IL619");
    assert!(
        by_url[0]["summary"]
            .as_str()
            .expect("s")
            .starts_with("1 entries"),
        "{why}"
    );
    // A URL that does not answer the manifest is an input error, said in one line.
    let mut args = vec!["lint".to_string()];
    args.extend(with(&[
        "--compare-manifest",
        &format!("http://127.0.0.1:{}/missing.json", nginx.http_port),
    ]));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = interloper(&refs);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 404"));

    // DEBUG on in the settings.
    let settings = site.dir.join("testsite/settings.py");
    let mut text = std::fs::read_to_string(&settings).expect("settings");
    text.push_str("\nDEBUG = True\n");
    std::fs::write(&settings, text).expect("write");
    let (_, report, why) = run(with(&["--mountinfo", mi_clean.to_str().expect("utf-8")]));
    assert_eq!(with_code(&report, "IL617").len(), 1, "{why}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let out = interloper(&["lint"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing to read"), "{err}");
    let out = interloper(&["lint", "--nginx-config", "/nonexistent/nginx.conf"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    // Garbage as a configuration is read without a panic.
    let dir = tempfile::tempdir().expect("tmp");
    let junk = dir.path().join("junk.conf");
    std::fs::write(
        &junk,
        b"\x00\xff{{{ \"unterminated ; } } }\n# configuration file x",
    )
    .expect("write");
    let out = interloper(&[
        "lint",
        "--nginx-config",
        junk.to_str().expect("utf-8"),
        "--json",
    ]);
    assert!(matches!(out.status.code(), Some(0..=2)), "{out:?}");
}

/// WhiteNoise serving the static files itself (CompressedManifestStaticFilesStorage, which
/// also writes `.gz` and `.br` copies).
const WHITENOISE: &str = r#"
MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
"#;

#[test]
fn whitenoise_behind_nginx_is_clean_until_buffering_is_off() {
    let dir = tempfile::tempdir().expect("tmp");
    let site = DjangoSite::create_with(&dir.path().join("site"), WHITENOISE).expect("django site");
    let server = site.runserver().expect("runserver");
    let python = interloper_testkit::venv().expect("venv").join("bin/python");
    let manage = site.dir.join("manage.py");
    let mi = mountinfo(dir.path(), "");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(site.static_root.join("staticfiles.json")).expect("manifest"),
    )
    .expect("json");
    let base_css = manifest["paths"]["admin/css/base.css"]
        .as_str()
        .expect("hashed")
        .to_string();
    assert!(
        site.static_root.join(format!("{base_css}.gz")).exists(),
        "WhiteNoise writes compressed copies"
    );

    let lint_with = |nginx: &Nginx| {
        let conf = nginx.dir.join("nginx.conf");
        lint(&[
            "--nginx-config",
            conf.to_str().expect("utf-8"),
            "--manage",
            manage.to_str().expect("utf-8"),
            "--python",
            python.to_str().expect("utf-8"),
            "--mountinfo",
            mi.to_str().expect("utf-8"),
        ])
    };

    // nginx passes everything to the app, and WhiteNoise answers the static files.
    let nginx = Nginx::start(NginxOptions {
        proxy_to: Some(server.port),
        ..Default::default()
    })
    .expect("nginx");
    nginx_t_accepts(&nginx);
    let (status, ctype) = get(&nginx, &format!("/static/{base_css}"));
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/css"), "{ctype}");
    let (code, report, why) = lint_with(&nginx);
    assert_eq!(report["django"]["whitenoise_middleware"], true, "{why}");
    assert_eq!(serious(&report), Vec::<String>::new(), "{why}");
    assert_eq!(code, 0, "{why}");

    // The same with buffering off and a short read timeout for the proxied files.
    let unbuffered = Nginx::start(NginxOptions {
        proxy_to: Some(server.port),
        extra_server_conf: "proxy_buffering off;\nproxy_read_timeout 2s;".into(),
        ..Default::default()
    })
    .expect("nginx");
    nginx_t_accepts(&unbuffered);
    let (code, report, why) = lint_with(&unbuffered);
    assert_eq!(code, 1, "{why}");
    let f = with_code(&report, "IL609");
    assert!(!f.is_empty(), "{why}");
    assert!(
        line_at(f[0]["target"].as_str().expect("target")).contains("proxy_buffering off"),
        "{why}"
    );

    // A development setting left on in production.
    let settings = site.dir.join("testsite/settings.py");
    let mut text = std::fs::read_to_string(&settings).expect("settings");
    text.push_str("\nWHITENOISE_AUTOREFRESH = True\n");
    std::fs::write(&settings, text).expect("write");
    let (_, report, why) = lint_with(&nginx);
    let f = with_code(&report, "IL620");
    assert_eq!(f.len(), 1, "{why}");
    assert!(
        f[0]["summary"]
            .as_str()
            .expect("s")
            .contains("WHITENOISE_AUTOREFRESH"),
        "{why}"
    );
}

#[test]
fn a_bind_mount_over_static_root_in_a_mount_namespace_hides_the_build() {
    let unshare_works = is_root()
        && Command::new("unshare")
            .args(["--mount", "--propagation", "private", "true"])
            .status()
            .is_ok_and(|s| s.success());
    if !unshare_works {
        eprintln!("skipped: needs root and `unshare --mount` (a private mount namespace)");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let hash = interloper_assets::django::content_hash(CSS.as_bytes());
    let hashed = format!("css/site.{hash}.css");
    std::fs::write(root.join(&hashed), CSS).expect("write");
    std::fs::write(
        root.join("staticfiles.json"),
        format!("{{\"paths\": {{\"css/site.css\": \"{hashed}\"}}, \"version\": \"1.1\"}}"),
    )
    .expect("write");
    let volume = dir.path().join("volume");
    std::fs::create_dir(&volume).expect("mkdir");
    let bin = assert_cmd::cargo::cargo_bin("interloper");
    // In a private mount namespace (gone when the shell exits): an empty volume over
    // STATIC_ROOT, the collected file no longer visible, then lint on the real mount table.
    let script = format!(
        "mount --bind '{vol}' '{root}' && [ ! -e '{root}/{hashed}' ] && exec '{bin}' lint --json --static-root '{root}'",
        vol = volume.display(),
        root = root.display(),
        bin = bin.display()
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .env("NO_COLOR", "1")
        .output()
        .expect("unshare");
    let report = json(&out);
    let why = serde_json::to_string_pretty(&report).unwrap_or_default();
    assert_eq!(out.status.code(), Some(1), "{why}");
    let f = with_code(&report, "IL618");
    assert_eq!(f.len(), 1, "{why}");
    assert_eq!(f[0]["severity"], "warning", "{why}");
    assert!(
        f[0]["target"]
            .as_str()
            .expect("target")
            .starts_with("/proc/self/mountinfo:"),
        "{why}"
    );
    assert!(
        codes(&report).contains(&"IL611".to_string()),
        "the volume is empty: {why}"
    );
    assert_eq!(
        report["verdict"]["root_cause"], "IL618",
        "the mount explains it: {why}"
    );
    // Outside the namespace the build is still there.
    assert!(root.join(&hashed).exists());
}
