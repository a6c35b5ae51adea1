//! `run_lint` on real things: nginx configurations that a real nginx serves wrongly (the
//! file requested answers 404 or 403), named by lint with the file:line or path and the fix;
//! and STATIC_ROOT trees whose manifest no longer matches their files.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use common::{codes, line_at, lint, root_with_nobody, start_nginx, status_of, why, with_code};
use interloper_findings::{Code, VerdictStatus};
use interloper_lint::{LintPlan, NginxSource};
use interloper_testkit::{root_only_mountinfo as mountinfo, static_tree};

/// A plan for nginx's configuration and STATIC_ROOT, with a mount table of `/` only.
fn plan(conf: PathBuf, root: PathBuf, mounts: PathBuf) -> LintPlan {
    LintPlan {
        nginx: Some(NginxSource::File(conf)),
        static_root: Some(root),
        mountinfo: Some(mounts),
        ..LintPlan::default()
    }
}

#[test]
fn a_correct_static_location_is_clean() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let nginx = start_nginx(
        format!(
            "location /static/ {{ alias {}/; expires max; }}",
            root.display()
        ),
        |_| {},
    );
    assert_eq!(status_of(&nginx, "/static/css/site.css"), 200);
    let outcome = lint(&plan(
        nginx.dir.join("nginx.conf"),
        root,
        mountinfo(dir.path(), ""),
    ));
    let serious: Vec<String> = outcome
        .analysis
        .findings
        .iter()
        .filter(|f| f.severity >= interloper_findings::Severity::Warning)
        .map(|f| f.code.as_str().to_string())
        .collect();
    assert_eq!(serious, Vec::<String>::new(), "{}", why(&outcome));
    assert_eq!(outcome.analysis.verdict.status, VerdictStatus::Clean);
    let read: Vec<&str> = outcome.inputs.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        read.contains(&"nginx") && read.contains(&"static root"),
        "{read:?}"
    );
}

#[test]
fn an_alias_without_its_trailing_slash_is_a_404_named_at_its_line_with_the_fix() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let nginx = start_nginx(
        format!(
            "location /static/ {{\n    alias {};\n    expires max;\n}}",
            root.display()
        ),
        |_| {},
    );
    // nginx really opens `{root}css/site.css`, which is not there.
    assert_eq!(status_of(&nginx, "/static/css/site.css"), 404);
    let conf = nginx.dir.join("nginx.conf");
    let outcome = lint(&plan(conf.clone(), root.clone(), mountinfo(dir.path(), "")));
    assert_eq!(
        outcome.analysis.verdict.root_cause,
        Some(Code::IL602),
        "{}",
        why(&outcome)
    );
    assert_eq!(outcome.analysis.verdict.status, VerdictStatus::Failing);
    let f = &with_code(&outcome, "IL602")[0];
    let target = f["target"].as_str().expect("a file:line");
    assert!(target.starts_with(&conf.display().to_string()), "{target}");
    assert!(
        line_at(target).contains(&format!("alias {};", root.display())),
        "{target} is not the alias line"
    );
    let remedy = f["remedy"].as_str().expect("remedy");
    assert!(
        remedy.starts_with(&format!(
            "Fix: at {target}, write `alias {}/;`",
            root.display()
        )),
        "{remedy}"
    );

    // The fix lint gives makes nginx serve the file, and lint stops naming it.
    let fixed = start_nginx(
        format!(
            "location /static/ {{\n    alias {}/;\n    expires max;\n}}",
            root.display()
        ),
        |_| {},
    );
    assert_eq!(status_of(&fixed, "/static/css/site.css"), 200);
    let outcome = lint(&plan(
        fixed.dir.join("nginx.conf"),
        root,
        mountinfo(dir.path(), ""),
    ));
    assert!(with_code(&outcome, "IL602").is_empty(), "{}", why(&outcome));
}

#[test]
fn saved_nginx_t_output_names_the_same_file_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let nginx = start_nginx(
        format!("location /static/ {{\n    alias {};\n}}", root.display()),
        |_| {},
    );
    let conf = nginx.dir.join("nginx.conf");
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
    let dump = interloper_lint::nginx_dump(Some(&wrapper)).expect("nginx -T runs");
    let from_file = lint(&plan(conf, root.clone(), mountinfo(dir.path(), "")));
    let from_dump = lint(&LintPlan {
        nginx: Some(NginxSource::Dump {
            text: dump,
            label: "nginx -T".into(),
        }),
        static_root: Some(root),
        mountinfo: Some(mountinfo(dir.path(), "")),
        ..LintPlan::default()
    });
    assert_eq!(
        with_code(&from_dump, "IL602")[0]["target"],
        with_code(&from_file, "IL602")[0]["target"],
        "{}",
        why(&from_dump)
    );
}

#[test]
fn a_regex_location_that_proxies_static_files_is_named_with_the_caret_fix() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let nginx = start_nginx(
        format!(
            "location /static/ {{ alias {}/; expires max; }}\nlocation ~* \\.(css|js)$ {{ proxy_pass http://127.0.0.1:9; }}",
            root.display()
        ),
        |_| {},
    );
    // The regex takes the request before the prefix location could serve it, and passes it
    // to an application that is not there.
    assert_eq!(status_of(&nginx, "/static/css/site.css"), 502);
    let conf = nginx.dir.join("nginx.conf");
    let outcome = lint(&plan(conf, root, mountinfo(dir.path(), "")));
    // Named in each server that has the regex (testkit's nginx has an HTTP and an HTTPS one),
    // at the regex's own line.
    let f = with_code(&outcome, "IL604");
    assert!(!f.is_empty(), "{}", why(&outcome));
    for one in &f {
        assert!(
            line_at(one["target"].as_str().expect("target")).contains("location ~*"),
            "{}",
            why(&outcome)
        );
        assert!(
            one["remedy"]
                .as_str()
                .expect("remedy")
                .contains("location ^~ /static/ {"),
            "{}",
            why(&outcome)
        );
    }
}

#[test]
fn a_directory_nginx_user_cannot_enter_is_a_403_named_with_its_chmod() {
    if !root_with_nobody() {
        interloper_testkit::skipped(
            "a_directory_nginx_user_cannot_enter_is_a_403_named_with_its_chmod",
            "needs root (to run nginx workers as nobody) and nobody/nogroup",
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    // Root owns it; nobody is "other", and others may not enter it.
    let css = root.join("css");
    std::fs::set_permissions(&css, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    let nginx = start_nginx(
        format!(
            "location /static/ {{ alias {}/; expires max; }}",
            root.display()
        ),
        |o| o.user = Some("nobody nogroup".into()),
    );
    assert_eq!(status_of(&nginx, "/static/css/site.css"), 403);
    assert_eq!(status_of(&nginx, "/static/js/app.js"), 200);
    let lint_plan = plan(
        nginx.dir.join("nginx.conf"),
        root.clone(),
        mountinfo(dir.path(), ""),
    );
    let outcome = lint(&lint_plan);
    let f = with_code(&outcome, "IL610");
    assert_eq!(f.len(), 1, "{}", why(&outcome));
    assert_eq!(f[0]["target"].as_str(), css.to_str(), "{}", why(&outcome));
    let fix = format!("chmod o+x {}", css.display());
    assert!(
        f[0]["remedy"].as_str().expect("remedy").contains(&fix),
        "{}",
        why(&outcome)
    );
    // The user is the running workers', found in /proc.
    let user = outcome
        .inputs
        .iter()
        .find(|(k, _)| k == "web server user")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(
        user.starts_with("nobody (uid 65534, its running worker"),
        "{user}"
    );

    // The fix lint gives makes nginx serve the file, and lint stops naming it.
    std::fs::set_permissions(&css, std::fs::Permissions::from_mode(0o751)).expect("chmod");
    assert_eq!(status_of(&nginx, "/static/css/site.css"), 200);
    assert!(with_code(&lint(&lint_plan), "IL610").is_empty());
}

#[test]
fn a_file_the_given_user_cannot_read_is_named_with_its_chmod() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = static_tree(dir.path());
    let css = root.join("css/site.css");
    std::fs::set_permissions(&css, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    // The accounts come from files of the test's own, so the owner (whoever runs the test)
    // is never the user judged.
    let passwd = dir.path().join("passwd");
    std::fs::write(&passwd, "web:x:4321:4321:web:/:/bin/false\n").expect("write");
    let group = dir.path().join("group");
    std::fs::write(&group, "web:x:4321:\n").expect("write");
    let outcome = lint(&LintPlan {
        static_root: Some(root),
        user: Some("web".into()),
        passwd: Some(passwd),
        group: Some(group),
        mountinfo: Some(mountinfo(dir.path(), "")),
        ..LintPlan::default()
    });
    let f = with_code(&outcome, "IL610");
    assert_eq!(f.len(), 1, "{}", why(&outcome));
    assert_eq!(f[0]["target"].as_str(), css.to_str());
    assert!(
        f[0]["remedy"]
            .as_str()
            .expect("remedy")
            .contains(&format!("chmod o+r {}", css.display())),
        "{}",
        why(&outcome)
    );
    assert!(
        f[0]["summary"]
            .as_str()
            .expect("summary")
            .starts_with("web (--user, uid 4321) cannot read"),
        "{}",
        why(&outcome)
    );
}

/// STATIC_ROOT as collectstatic writes it: the originals, their hashed copies and a manifest.
/// Returns the root and the two hashed names (css, js).
fn collected(dir: &std::path::Path) -> (PathBuf, String, String) {
    let root = static_tree(dir);
    let hashed_copy = |original: &str, ext: &str| {
        let bytes = std::fs::read(root.join(original)).expect("read");
        let hash = interloper_assets::django::content_hash(&bytes);
        let stem = original.trim_end_matches(ext);
        let hashed = format!("{stem}.{hash}{ext}");
        std::fs::write(root.join(&hashed), bytes).expect("write");
        hashed
    };
    let css = hashed_copy("css/site.css", ".css");
    let js = hashed_copy("js/app.js", ".js");
    std::fs::write(
        root.join("staticfiles.json"),
        format!(
            "{{\"paths\": {{\"css/site.css\": \"{css}\", \"js/app.js\": \"{js}\"}}, \"version\": \"1.1\"}}"
        ),
    )
    .expect("write");
    (root, css, js)
}

fn static_only(root: &std::path::Path, mounts: PathBuf) -> LintPlan {
    LintPlan {
        static_root: Some(root.to_path_buf()),
        mountinfo: Some(mounts),
        ..LintPlan::default()
    }
}

#[test]
fn a_stale_manifest_names_missing_altered_and_unknown_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let (root, css, js) = collected(dir.path());
    let clean = lint(&static_only(&root, mountinfo(dir.path(), "")));
    assert_eq!(codes(&clean), Vec::<String>::new(), "{}", why(&clean));

    // A deploy that lost a hashed file, edited another and left an old build's file behind.
    std::fs::remove_file(root.join(&js)).expect("rm");
    std::fs::write(root.join(&css), "/* edited by hand */\n").expect("write");
    std::fs::write(root.join("css/site.ffffffffffff.css"), "old\n").expect("write");
    let outcome = lint(&static_only(&root, mountinfo(dir.path(), "")));
    assert_eq!(
        codes(&outcome),
        vec!["IL614", "IL615", "IL616"],
        "{}",
        why(&outcome)
    );
    assert_eq!(outcome.analysis.verdict.root_cause, Some(Code::IL614));
    let missing = &with_code(&outcome, "IL614")[0];
    assert_eq!(missing["target"].as_str(), root.join(&js).to_str());
    let altered = &with_code(&outcome, "IL615")[0];
    assert_eq!(altered["target"].as_str(), root.join(&css).to_str());
    let stale = &with_code(&outcome, "IL616")[0];
    assert!(
        stale["summary"].as_str().expect("summary").contains(
            "(1 of them other hashed versions of files it lists), e.g. css/site.ffffffffffff.css"
        ),
        "{}",
        why(&outcome)
    );
    assert!(
        stale["remedy"]
            .as_str()
            .expect("remedy")
            .starts_with("Fix: run `manage.py collectstatic --noinput --clear`"),
        "{}",
        why(&outcome)
    );
}

#[test]
fn a_manifest_that_does_not_parse_is_a_finding_not_an_input_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let (root, _, _) = collected(dir.path());
    std::fs::write(
        root.join("staticfiles.json"),
        "{\"paths\": 3, \"version\": \"1.1\"}",
    )
    .expect("write");
    let outcome = lint(&LintPlan {
        static_root: Some(root.clone()),
        mountinfo: Some(mountinfo(dir.path(), "")),
        ..LintPlan::default()
    });
    let f = with_code(&outcome, "IL613");
    assert_eq!(f.len(), 1, "{}", why(&outcome));
    let manifest = root.join("staticfiles.json");
    assert_eq!(
        f[0]["summary"].as_str(),
        Some(
            format!(
                "{}: manifest has no \"paths\" object of strings",
                manifest.display()
            )
            .as_str()
        )
    );
}

#[test]
fn another_instance_with_another_build_is_named_by_entry() {
    let dir = tempfile::tempdir().expect("tmp");
    let (root, hashed, _) = collected(dir.path());
    let ours = std::fs::read_to_string(root.join("staticfiles.json")).expect("manifest");
    let theirs = ours.replace(&hashed, "css/site.ffffffffffff.css");
    let other = dir.path().join("other.json");
    std::fs::write(&other, &theirs).expect("write");
    let outcome = lint(&LintPlan {
        static_root: Some(root.clone()),
        mountinfo: Some(mountinfo(dir.path(), "")),
        compare_manifests: vec![other.clone()],
        compare_manifest_documents: vec![(
            "https://b.example/static/staticfiles.json".into(),
            ours.clone().into_bytes(),
        )],
        ..LintPlan::default()
    });
    let f = with_code(&outcome, "IL619");
    // The other file differs in one entry; the same build by URL does not differ at all.
    assert_eq!(f.len(), 1, "{}", why(&outcome));
    assert_eq!(f[0]["target"].as_str(), other.to_str());
    assert_eq!(
        f[0]["summary"].as_str(),
        Some(
            format!(
                "1 entries differ between this manifest and {}.",
                other.display()
            )
            .as_str()
        )
    );
}

#[test]
fn a_volume_mounted_over_static_root_is_the_root_cause_of_its_missing_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let (root, _, js) = collected(dir.path());
    std::fs::remove_file(root.join(js)).expect("rm");
    let mounts = mountinfo(
        dir.path(),
        &format!(
            "40 27 254:0 /var/lib/docker/volumes/static/_data {} rw,relatime - ext4 /dev/vda rw\n",
            root.display()
        ),
    );
    let outcome = lint(&LintPlan {
        static_root: Some(root),
        mountinfo: Some(mounts.clone()),
        ..LintPlan::default()
    });
    let f = with_code(&outcome, "IL618");
    assert_eq!(f.len(), 1, "{}", why(&outcome));
    assert_eq!(
        f[0]["target"].as_str(),
        Some(format!("{}:2", mounts.display()).as_str())
    );
    assert!(codes(&outcome).contains(&"IL614".to_string()));
    assert_eq!(outcome.analysis.verdict.root_cause, Some(Code::IL618));
}

#[test]
fn django_settings_are_read_by_the_projects_own_python() {
    let dir = tempfile::tempdir().expect("tmp");
    let site = interloper_testkit::DjangoSite::create(&dir.path().join("site")).expect("site");
    let python = interloper_testkit::venv().expect("venv").join("bin/python");
    let settings = interloper_lint::DjangoSource::Manage {
        manage: site.dir.join("manage.py"),
        python,
    };
    let plan = LintPlan {
        django: Some(settings),
        mountinfo: Some(mountinfo(dir.path(), "")),
        ..LintPlan::default()
    };
    // Straight after collectstatic: STATIC_ROOT comes from the settings, and is clean.
    let outcome = lint(&plan);
    let django = outcome.django.as_ref().expect("settings read");
    assert_eq!(django.static_root.as_deref(), site.static_root.to_str());
    assert!(django.uses_manifest(), "{django:?}");
    assert_eq!(codes(&outcome), Vec::<String>::new(), "{}", why(&outcome));

    // DEBUG left on is named at the settings module.
    let file = site.dir.join("testsite/settings.py");
    let mut text = std::fs::read_to_string(&file).expect("settings");
    text.push_str("\nDEBUG = True\n");
    std::fs::write(&file, text).expect("write");
    let outcome = lint(&plan);
    let f = with_code(&outcome, "IL617");
    assert_eq!(f.len(), 1, "{}", why(&outcome));
    assert_eq!(f[0]["target"].as_str(), Some("testsite.settings"));
}
