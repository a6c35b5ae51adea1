//! Rules over the nginx configuration: which location really answers a static file (nginx's
//! own selection: exact, longest prefix, `^~`, then regexes in order), and what that location
//! does with it.

use std::path::Path;

use interloper_findings::{Code, Finding, Severity};
use interloper_nginxconf::{Config, Directive};

use crate::finding::LintFinding;

/// What the rules know besides the configuration.
#[derive(Debug, Clone)]
pub struct NginxFacts<'a> {
    /// The URL path prefix of static files (`/static/`).
    pub static_url: &'a str,
    /// STATIC_ROOT, when known (`--static-root` or Django's settings).
    pub static_root: Option<&'a Path>,
    /// WhiteNoise serves static files from the app, so proxying them is expected.
    pub whitenoise: bool,
    /// interloper-django's middleware names the instance on the app's responses, so the
    /// static files nginx serves should name it too (IL622, docs/rum.md).
    pub names_instances: bool,
}

/// Sample files under STATIC_URL: nginx's choice of location can depend on the extension.
const SAMPLES: &[&str] = &["css/site.css", "js/app.js"];

/// Directives that hand a request to something other than the file system.
const HANDLERS: &[&str] = &[
    "proxy_pass",
    "uwsgi_pass",
    "fastcgi_pass",
    "scgi_pass",
    "grpc_pass",
];

/// How a `location` matches.
enum Match {
    Exact(String),
    Prefix {
        path: String,
        no_regex: bool,
    },
    /// PCRE as nginx has it: lookarounds and backreferences included (`fancy-regex`, which
    /// hands plain patterns to the `regex` crate).
    Regex(fancy_regex::Regex),
    Named,
}

fn location_match(loc: &Directive) -> Option<Match> {
    let (modifier, pattern) = match loc.args.as_slice() {
        [p] => ("", p.as_str()),
        [m, p] => (m.as_str(), p.as_str()),
        _ => return None,
    };
    if modifier.is_empty() && pattern.starts_with('@') {
        return Some(Match::Named);
    }
    match modifier {
        "" => Some(Match::Prefix {
            path: pattern.to_string(),
            no_regex: false,
        }),
        "^~" => Some(Match::Prefix {
            path: pattern.to_string(),
            no_regex: true,
        }),
        "=" => Some(Match::Exact(pattern.to_string())),
        "~" | "~*" => fancy_regex::RegexBuilder::new(pattern)
            .case_insensitive(modifier == "~*")
            .delegate_size_limit(1 << 20)
            .backtrack_limit(100_000)
            .build()
            .ok()
            .map(Match::Regex),
        _ => None,
    }
}

/// Nested `location` blocks followed at most this deep (nginx sets no limit; real
/// configurations nest one or two levels).
const MAX_LOCATION_NESTING: usize = 16;

/// nginx's choice of location for `uri` in `server` — the path of locations from the server's
/// level to the innermost nested one — and the path its prefix locations alone would give
/// (what answers when no regex takes the request).
fn select<'a>(server: &'a Directive, uri: &str) -> (Vec<&'a Directive>, Vec<&'a Directive>) {
    let mut path = Vec::new();
    find_location(server, uri, 0, &mut path);
    let mut prefixes = Vec::new();
    let mut level = server;
    while prefixes.len() <= MAX_LOCATION_NESTING {
        let longest = level
            .all("location")
            .filter_map(|loc| match location_match(loc) {
                Some(Match::Prefix { path, .. }) if uri.starts_with(path.as_str()) => {
                    Some((loc, path.len()))
                }
                _ => None,
            })
            .max_by_key(|(_, len)| *len);
        let Some((loc, _)) = longest else {
            break;
        };
        prefixes.push(loc);
        level = loc;
    }
    (path, prefixes)
}

/// One level of nginx's search (`ngx_http_core_find_location`) among the locations of `level`
/// (a server, or a location's nested ones), pushing the choice onto `path`: an exact match
/// ends the search; the longest prefix is taken and its nested locations searched; unless that
/// prefix is `^~`, this level's regexes are then tried in order, and the first that matches
/// replaces what this level chose (its own nested locations searched too). True when the
/// search is over (an exact match or a regex), false when an outer level's regexes may still
/// take the request.
fn find_location<'a>(
    level: &'a Directive,
    uri: &str,
    depth: usize,
    path: &mut Vec<&'a Directive>,
) -> bool {
    if depth > MAX_LOCATION_NESTING {
        return false;
    }
    let base = path.len();
    let mut longest: Option<(&Directive, usize, bool)> = None;
    let mut regexes = Vec::new();
    for loc in level.all("location") {
        match location_match(loc) {
            Some(Match::Exact(p)) if p == uri => {
                path.push(loc);
                return true;
            }
            Some(Match::Prefix { path: p, no_regex })
                if uri.starts_with(p.as_str())
                    && longest.is_none_or(|(_, len, _)| p.len() > len) =>
            {
                longest = Some((loc, p.len(), no_regex));
            }
            Some(Match::Regex(re)) => regexes.push((loc, re)),
            _ => {}
        }
    }
    let mut no_regex = false;
    if let Some((loc, _, nr)) = longest {
        path.push(loc);
        no_regex = nr;
        if find_location(loc, uri, depth + 1, path) {
            return true;
        }
    }
    if no_regex {
        return false;
    }
    if let Some((loc, _)) = regexes
        .into_iter()
        .find(|(_, re)| re.is_match(uri).unwrap_or(false))
    {
        path.truncate(base);
        path.push(loc);
        find_location(loc, uri, depth + 1, path);
        return true;
    }
    false
}

/// Where nginx takes files from for the innermost level of `chain`: the `root` or `alias` of
/// the innermost level that sets either (a nested location inherits them), with that level.
fn files_from<'a>(chain: &[&'a Directive]) -> Option<(&'a Directive, &'a Directive)> {
    chain.iter().rev().find_map(|level| {
        level
            .children()
            .iter()
            .rev()
            .find(|d| d.name == "root" || d.name == "alias")
            .map(|d| (*level, d))
    })
}

/// The last directive named `name` at the innermost level of `chain` that has one.
fn nearest<'a>(chain: &[&'a Directive], name: &str) -> Option<&'a Directive> {
    chain.iter().rev().find_map(|d| d.last(name))
}

/// `add_header`s in effect: those of the innermost level that has any (nginx inherits them
/// only into levels that set none).
fn headers<'a>(chain: &[&'a Directive]) -> Vec<&'a Directive> {
    chain
        .iter()
        .rev()
        .map(|d| d.all("add_header").collect::<Vec<_>>())
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

fn has_header(chain: &[&Directive], name: &str, value: Option<&str>) -> Option<String> {
    headers(chain).into_iter().find_map(|h| {
        let named = h.arg(0).is_some_and(|n| n.eq_ignore_ascii_case(name));
        let valued = value.is_none_or(|v| {
            h.arg(1)
                .is_some_and(|x| x.to_ascii_lowercase().contains(&v.to_ascii_lowercase()))
        });
        (named && valued).then(|| h.at())
    })
}

fn handler(loc: &Directive) -> Option<&Directive> {
    loc.children()
        .iter()
        .find(|d| HANDLERS.contains(&d.name.as_str()))
}

/// The file nginx opens for `uri` under `chain` (alias or root + URI), when it can be told.
fn file_for(chain: &[&Directive], uri: &str) -> Option<String> {
    let (level, from) = files_from(chain)?;
    if from.name == "alias" {
        // The alias replaces the part of the URI its location matched.
        let Some(Match::Prefix { path, .. }) = location_match(level) else {
            return None;
        };
        return Some(format!("{}{}", from.arg(0)?, uri.get(path.len()..)?));
    }
    Some(format!("{}{uri}", from.arg(0)?.trim_end_matches('/')))
}

fn trimmed(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() { "/" } else { t }
}

/// Whether two directory names are the same directory (by name, or by what they resolve to).
fn same_dir(a: &str, b: &Path) -> bool {
    if trimmed(a) == trimmed(&b.to_string_lossy()) {
        return true;
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// A server that only redirects or refuses (`return` at server level) serves no files.
fn serves_content(server: &Directive) -> bool {
    server.last("return").is_none()
}

/// Every finding about the configuration, deduplicated by code and place.
pub fn nginx_findings(config: &Config, facts: &NginxFacts) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut push = |f: Finding| {
        if !out
            .iter()
            .any(|o| o.code == f.code && o.subject == f.subject)
        {
            out.push(f);
        }
    };
    let servers: Vec<_> = config
        .http_servers()
        .into_iter()
        .filter(|(_, s)| serves_content(s))
        .collect();
    if servers.is_empty() {
        push(
            LintFinding::new(
                Code::IL601,
                "The configuration has no `server` block in `http` that serves content.",
            )
            .at(config.files.first().cloned().unwrap_or_default())
            .build(),
        );
        return out;
    }
    // A configuration often holds other sites too: when some servers have a location meant
    // for STATIC_URL, those are the site's, and only they are judged.
    let has_static_location = |server: &Directive| {
        server.all("location").any(|l| {
            matches!(location_match(l), Some(Match::Prefix { path, .. })
                if path.len() > 1 && facts.static_url.starts_with(trimmed(&path)))
        })
    };
    let with_static: Vec<_> = servers
        .iter()
        .copied()
        .filter(|(_, s)| has_static_location(s))
        .collect();
    let judged = if with_static.is_empty() {
        servers
    } else {
        with_static
    };
    for (http, server) in judged {
        for sample in SAMPLES {
            let uri = format!("{}{sample}", facts.static_url);
            for f in server_findings(http, server, &uri, facts) {
                push(f);
            }
        }
    }
    out
}

/// The rules for one sample URI in one server: which location answers it, and what that
/// location does with it. One rule per function, in the order the findings are listed.
fn server_findings(
    http: &Directive,
    server: &Directive,
    uri: &str,
    facts: &NginxFacts,
) -> Vec<Finding> {
    let (path, prefixes) = select(server, uri);
    let selected = path.last().copied();
    let mut chain = vec![http, server];
    chain.extend(&path);
    let mut prefix_chain = vec![http, server];
    prefix_chain.extend(&prefixes);

    let mut out: Vec<Finding> = regex_shadow_finding(&chain, &prefix_chain, uri)
        .into_iter()
        .collect();
    let place = selected.unwrap_or(server);
    if selected.and_then(|l| l.last("return")).is_some() {
        return out;
    }
    if let Some(h) = selected.and_then(handler) {
        if facts.whitenoise {
            out.extend(upstream_findings(&chain, place, h, uri));
        } else if out.is_empty() {
            out.push(proxied_finding(&chain, place, h, uri, facts));
        }
        return out;
    }
    out.extend(files_dir_finding(&chain, uri, facts));
    out.extend(fallthrough_finding(&chain));
    out.extend(types_finding(&chain, place));
    out.extend(caching_finding(&chain, place));
    out.extend(tuning_finding(&chain, place));
    if facts.names_instances {
        out.extend(instance_header_finding(&chain, place));
    }
    out
}

/// IL622: the app names its instance in `Server-Timing` (interloper-django) and nginx's static
/// files do not: `interloper rum` cannot tie them to an instance. `add_header` in a location
/// replaces the levels above it, so the header is looked for where it takes effect.
fn instance_header_finding(chain: &[&Directive], place: &Directive) -> Option<Finding> {
    if has_header(chain, "Server-Timing", Some("inst;")).is_some() {
        return None;
    }
    Some(
        LintFinding::new(
            Code::IL622,
            format!(
                "`location {}` at {} adds no `Server-Timing` naming the instance, while the app's \
                 middleware does.",
                place.args.join(" "),
                place.at()
            ),
        )
        .at(place.at())
        .fix(format!(
            "inside the location at {}, add `add_header Server-Timing 'inst;desc=\"NAME\"' \
             always;` with this instance's name (and repeat the location's other add_header \
             lines, which an add_header there replaces)",
            place.at()
        ))
        .build(),
    )
}

/// IL604: a regex location answers instead of the static prefix location, and answers
/// differently. `chain` is nginx's choice (http, server, locations); `prefix_chain` what the
/// prefix locations alone would choose.
fn regex_shadow_finding(
    chain: &[&Directive],
    prefix_chain: &[&Directive],
    uri: &str,
) -> Option<Finding> {
    let (&top, &sel, &pre) = (chain.get(2)?, chain.last()?, prefix_chain.get(2)?);
    if std::ptr::eq(top, pre) || !matches!(location_match(top), Some(Match::Regex(_))) {
        return None;
    }
    // A regex `alias` with captures cannot be resolved here: only a difference that can be
    // shown is reported.
    let differs = handler(sel).is_some()
        || matches!(
            (file_for(chain, uri), file_for(prefix_chain, uri)),
            (Some(a), Some(b)) if a != b
        );
    if !differs {
        return None;
    }
    let what = match handler(sel) {
        Some(h) => format!("passes it on (`{}`)", h.text()),
        None => match file_for(chain, uri) {
            Some(f) => format!("looks for {f}"),
            None => "answers it".into(),
        },
    };
    Some(
        LintFinding::new(
            Code::IL604,
            format!(
                "{uri} matches `{}` at {}, which nginx tries before the prefix location `{}` at {}, and {what}.",
                sel.text(),
                sel.at(),
                pre.text(),
                pre.at()
            ),
        )
        .at(sel.at())
        .config_line(sel.at(), sel.text())
        .config_line(pre.at(), pre.text())
        .fix(format!(
            "at {}, write `location ^~ {} {{`",
            pre.at(),
            pre.args.last().cloned().unwrap_or_default()
        ))
        .build(),
    )
}

/// IL601: the location that answers passes static files to the application, and nothing
/// serves them from disk (without WhiteNoise, nothing in the application serves them).
fn proxied_finding(
    chain: &[&Directive],
    place: &Directive,
    h: &Directive,
    uri: &str,
    facts: &NginxFacts,
) -> Finding {
    LintFinding::new(
        Code::IL601,
        format!(
            "{uri} is answered by `location {}` at {}, which passes it to the application (`{}`); no location serves {} from disk.",
            place.args.join(" "),
            place.at(),
            h.text(),
            facts.static_url
        ),
    )
    .at(place.at())
    .config_line(h.at(), h.text())
    .fix(format!(
        "add `location {} {{ alias {}/; }}` to the server at {}",
        facts.static_url,
        facts
            .static_root
            .map(|p| trimmed(&p.to_string_lossy()).to_string())
            .unwrap_or_else(|| "/path/to/STATIC_ROOT".into()),
        chain[1].at()
    ))
    .build()
}

/// Where nginx looks on disk: an `alias` or a `root` that misses STATIC_ROOT (at most one
/// finding: the first of these that applies names the directory to fix).
fn files_dir_finding(chain: &[&Directive], uri: &str, facts: &NginxFacts) -> Option<Finding> {
    let (level, from) = files_from(chain)?;
    match from.name.as_str() {
        "alias" => match location_match(level) {
            Some(Match::Prefix { path, .. }) => {
                alias_finding(chain, level, &path, from, uri, facts)
            }
            _ => None,
        },
        _ => root_finding(chain, from, uri, facts),
    }
}

/// IL602 / IL612: an `alias` whose trailing slash does not match its location's, or that
/// names another directory than STATIC_ROOT.
fn alias_finding(
    chain: &[&Directive],
    loc: &Directive,
    path: &str,
    alias: &Directive,
    uri: &str,
    facts: &NginxFacts,
) -> Option<Finding> {
    let a = alias.arg(0).unwrap_or("");
    if path.ends_with('/') && !a.ends_with('/') {
        return Some(
            LintFinding::new(
                Code::IL602,
                format!(
                    "`location {path}` with `alias {a}` makes nginx open {}, not {a}/{}.",
                    file_for(chain, uri).unwrap_or_default(),
                    uri.get(path.len()..).unwrap_or("")
                ),
            )
            .at(alias.at())
            .config_line(loc.at(), format!("location {path}"))
            .config_line(alias.at(), alias.text())
            .fix(format!("at {}, write `alias {a}/;`", alias.at()))
            .build(),
        );
    }
    if !path.ends_with('/') && a.ends_with('/') {
        return Some(
            LintFinding::new(
                Code::IL602,
                format!(
                    "`location {path}` without a trailing slash and `alias {a}` with one: {path}../ reaches the parent of {a}."
                ),
            )
            .severity(Severity::Warning)
            .at(alias.at())
            .config_line(loc.at(), format!("location {path}"))
            .config_line(alias.at(), alias.text())
            .fix(format!("at {}, write `location {path}/ {{`", loc.at()))
            .build(),
        );
    }
    let root = facts.static_root.filter(|root| !same_dir(a, root))?;
    Some(
        LintFinding::new(
            Code::IL612,
            format!(
                "nginx serves {} from {a} (alias at {}), but STATIC_ROOT is {}.",
                facts.static_url,
                alias.at(),
                root.display()
            ),
        )
        .at(alias.at())
        .config_line(alias.at(), alias.text())
        .fix(format!(
            "at {}, write `alias {}/;`",
            alias.at(),
            trimmed(&root.to_string_lossy())
        ))
        .build(),
    )
}

/// IL603 / IL612: a `root` that names the static directory itself (nginx appends the whole
/// URI, so `alias` was meant), or that leads elsewhere than STATIC_ROOT.
fn root_finding(
    chain: &[&Directive],
    root: &Directive,
    uri: &str,
    facts: &NginxFacts,
) -> Option<Finding> {
    let r = root.arg(0).unwrap_or("");
    let looks_in = format!("{}{}", trimmed(r).trim_end_matches('/'), facts.static_url);
    let root_is_static = match facts.static_root {
        Some(sr) => same_dir(r, sr),
        None => Path::new(r).join("staticfiles.json").exists() && !Path::new(&looks_in).exists(),
    };
    if root_is_static {
        return Some(
            LintFinding::new(
                Code::IL603,
                format!(
                    "`root {r}` (at {}) makes nginx look for {uri} in {looks_in}, but the static files are in {r}.",
                    root.at()
                ),
            )
            .at(root.at())
            .config_line(root.at(), root.text())
            .fix(format!(
                "at {}, write `alias {}/;` instead of `root {r};`",
                root.at(),
                trimmed(r)
            ))
            .build(),
        );
    }
    let sr = facts.static_root.filter(|sr| !same_dir(&looks_in, sr))?;
    Some(
        LintFinding::new(
            Code::IL612,
            format!(
                "nginx looks for {} in {looks_in} (`root` at {}), but STATIC_ROOT is {}.",
                facts.static_url,
                root.at(),
                sr.display()
            ),
        )
        .at(root.at())
        .config_line(root.at(), root.text())
        .fix(format!(
            "add `location {} {{ alias {}/; }}` to the server at {}",
            facts.static_url,
            trimmed(&sr.to_string_lossy()),
            chain[1].at()
        ))
        .build(),
    )
}

/// IL605: a static file missing from disk falls through `try_files` to something other than
/// a 404 (usually the application).
fn fallthrough_finding(chain: &[&Directive]) -> Option<Finding> {
    let tf = nearest(chain, "try_files")?;
    let last = tf.args.last()?;
    if last.starts_with('=') || tf.args.len() <= 1 {
        return None;
    }
    Some(
        LintFinding::new(
            Code::IL605,
            format!(
                "A static file missing from disk falls through to `{last}` (`{}` at {}).",
                tf.text(),
                tf.at()
            ),
        )
        .at(tf.at())
        .config_line(tf.at(), tf.text())
        .fix(format!(
            "at {}, end it with `=404`: `try_files {} =404;`",
            tf.at(),
            tf.args[..tf.args.len() - 1].join(" ")
        ))
        .build(),
    )
}

/// The `types` in effect and whether they give css and js their types.
fn types_finding(chain: &[&Directive], place: &Directive) -> Option<Finding> {
    let nosniff = has_header(chain, "X-Content-Type-Options", Some("nosniff"));
    let types_block = chain.iter().rev().find_map(|d| d.last("types"));
    let unresolved_mime = chain.iter().rev().find_map(|d| {
        d.all("include")
            .find(|i| i.arg(0).is_some_and(|a| a.contains("mime.types")))
    });
    let maps = |b: &Directive, ext: &str, want: &[&str]| {
        b.children()
            .iter()
            .any(|t| want.contains(&t.name.as_str()) && t.args.iter().any(|a| a == ext))
    };
    let (problem, at) = match types_block {
        Some(b)
            if maps(b, "css", &["text/css"])
                && maps(b, "js", &["application/javascript", "text/javascript"]) =>
        {
            return None;
        }
        Some(b) => (
            format!(
                "the `types` block at {} does not map .css to text/css and .js to a JavaScript type",
                b.at()
            ),
            b.at(),
        ),
        None if unresolved_mime.is_some() => return None,
        None => (
            "no `include mime.types;` nor `types` block is in effect".to_string(),
            chain[0].at(),
        ),
    };
    let default_type = nearest(chain, "default_type")
        .and_then(|d| d.arg(0).map(str::to_string))
        .unwrap_or_else(|| "text/plain".into());
    let (severity, consequence) = match &nosniff {
        Some(at) => (
            Severity::Error,
            format!(
                "; with `X-Content-Type-Options: nosniff` (at {at}) browsers refuse stylesheets and scripts served as {default_type}"
            ),
        ),
        None => (
            Severity::Warning,
            format!(": files go out as {default_type}"),
        ),
    };
    Some(
        LintFinding::new(
            Code::IL606,
            format!(
                "For static files under `location {}`, {problem}{consequence}.",
                place.args.join(" ")
            ),
        )
        .severity(severity)
        .at(at)
        .stat("default_type", default_type)
        .fix(format!(
            "inside `http {{` at {}, add `include /etc/nginx/mime.types;`",
            chain[0].at()
        ))
        .build(),
    )
}

fn caching_finding(chain: &[&Directive], place: &Directive) -> Option<Finding> {
    let expires = nearest(chain, "expires")
        .and_then(|e| e.arg(0).map(str::to_string))
        .filter(|v| !matches!(v.as_str(), "off" | "epoch" | "0" | "-1"));
    let cache_control = has_header(chain, "Cache-Control", Some("max-age"));
    if expires.is_some() || cache_control.is_some() {
        return None;
    }
    Some(
        LintFinding::new(
            Code::IL607,
            format!(
                "`location {}` at {} sets neither `expires` nor a Cache-Control max-age.",
                place.args.join(" "),
                place.at()
            ),
        )
        .at(place.at())
        .fix(format!(
            "inside the location at {}, add `expires max;`",
            place.at()
        ))
        .build(),
    )
}

fn tuning_finding(chain: &[&Directive], place: &Directive) -> Option<Finding> {
    let on = |name: &str| {
        nearest(chain, name)
            .and_then(|d| d.arg(0))
            .is_some_and(|v| v == "on")
    };
    let mut missing = Vec::new();
    if !on("sendfile") {
        missing.push("sendfile on;");
    }
    if !on("tcp_nopush") {
        missing.push("tcp_nopush on;");
    }
    let ofc = nearest(chain, "open_file_cache").and_then(|d| d.arg(0));
    if ofc.is_none_or(|v| v == "off") {
        missing.push("open_file_cache max=10000 inactive=60s;");
    }
    let gzip_css = on("gzip")
        && nearest(chain, "gzip_types")
            .is_some_and(|d| d.args.iter().any(|a| a == "text/css" || a == "*"));
    if !gzip_css && !on("brotli") && !on("gzip_static") {
        missing.push("gzip on; gzip_types text/css application/javascript image/svg+xml;");
    }
    if missing.is_empty() {
        return None;
    }
    Some(
        LintFinding::new(
            Code::IL608,
            format!(
                "For `location {}` at {}, not set: {}",
                place.args.join(" "),
                place.at(),
                missing.join(" ")
            ),
        )
        .at(place.at())
        .fix(format!(
            "add `{}` (in `http` or the location)",
            missing.join(" ")
        ))
        .build(),
    )
}

/// Static files proxied (WhiteNoise): buffering and timeouts that cut or slow large files.
fn upstream_findings(
    chain: &[&Directive],
    place: &Directive,
    h: &Directive,
    uri: &str,
) -> Option<Finding> {
    let mut why = Vec::new();
    let mut lines = Vec::new();
    if let Some(b) = nearest(chain, "proxy_buffering")
        && b.arg(0) == Some("off")
    {
        why.push("proxy_buffering off".to_string());
        lines.push(b);
    }
    for name in ["proxy_read_timeout", "proxy_send_timeout"] {
        if let Some(t) = nearest(chain, name)
            && let Some(secs) = t.arg(0).and_then(seconds)
            && secs < 30
        {
            why.push(format!("{name} {secs}s"));
            lines.push(t);
        }
    }
    if why.is_empty() {
        return None;
    }
    let mut f = LintFinding::new(
        Code::IL609,
        format!(
            "{uri} goes through `{}` (location at {}) with {}.",
            h.text(),
            place.at(),
            why.join(", ")
        ),
    )
    .at(lines[0].at())
    .fix(
        "remove `proxy_buffering off;` and set `proxy_read_timeout 60s;` or more for this location",
    );
    for l in lines {
        f = f.config_line(l.at(), l.text());
    }
    Some(f.build())
}

/// nginx time values: `30`, `30s`, `2m`, `1h` (whole seconds; other forms are not judged).
fn seconds(v: &str) -> Option<u64> {
    let (num, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = num.parse().ok()?;
    match unit {
        "" | "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "ms" => Some(n / 1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(server_body: &str) -> Config {
        let text = format!(
            "user www-data;\nhttp {{\n    include /etc/nginx/mime.types;\n    sendfile on; tcp_nopush on; open_file_cache max=100;\n    gzip on; gzip_types text/css;\n    server {{\n        listen 80;\n{server_body}\n    }}\n}}\n"
        );
        Config::from_sources(&[interloper_nginxconf::Source {
            path: "/etc/nginx/nginx.conf".into(),
            text,
        }])
    }

    fn codes(config: &Config, root: Option<&Path>) -> Vec<(Code, Severity)> {
        nginx_findings(
            config,
            &NginxFacts {
                static_url: "/static/",
                static_root: root,
                whitenoise: false,
                names_instances: false,
            },
        )
        .into_iter()
        .map(|f| (f.code, f.severity))
        .collect()
    }

    #[test]
    fn nested_locations_are_searched_as_nginx_searches_them() {
        // A nested regex inherits the outer alias: clean.
        let nested = conf(
            "        location /static/ {\n            alias /srv/static/; expires max;\n            location ~* \\.(css|js)$ { expires 1y; }\n        }",
        );
        assert_eq!(codes(&nested, Some(Path::new("/srv/static"))), vec![]);
        // The inherited alias still lacks its slash: named at the outer location's line.
        let broken = conf(
            "        location /static/ {\n            alias /srv/static; expires max;\n            location ~* \\.(css|js)$ { expires 1y; }\n        }",
        );
        let f = nginx_findings(
            &broken,
            &NginxFacts {
                static_url: "/static/",
                static_root: None,
                whitenoise: false,
                names_instances: false,
            },
        );
        assert_eq!(f.first().map(|f| f.code), Some(Code::IL602), "{f:?}");
        assert_eq!(
            f.first().and_then(|f| f.subject.as_deref()),
            Some("/etc/nginx/nginx.conf:9")
        );
        // A nested `root` replaces the inherited alias.
        let rooted = conf(
            "        location /static/ {\n            alias /srv/static/; expires max;\n            location /static/css/ { root /srv/static; }\n        }",
        );
        assert_eq!(
            codes(&rooted, Some(Path::new("/srv/static"))),
            vec![(Code::IL603, Severity::Error)]
        );
        // A nested prefix, even `^~`, does not shield from the server's regexes (nginx tries
        // them once the nested search ends without a regex of its own); `^~` at the server's
        // level does.
        let swallowed = conf(
            "        location / {\n            location /static/ { alias /srv/static/; expires max; }\n        }\n        location ~* \\.(css|js)$ { proxy_pass http://127.0.0.1:8000; }",
        );
        assert!(codes(&swallowed, None).contains(&(Code::IL604, Severity::Error)));
        let nested_caret = conf(
            "        location /static/ {\n            location ^~ /static/ { alias /srv/static/; expires max; }\n        }\n        location ~* \\.(css|js)$ { proxy_pass http://127.0.0.1:8000; }",
        );
        assert!(codes(&nested_caret, None).contains(&(Code::IL604, Severity::Error)));
        let top = conf(
            "        location ^~ /static/ {\n            location /static/ { alias /srv/static/; expires max; }\n        }\n        location ~* \\.(css|js)$ { proxy_pass http://127.0.0.1:8000; }",
        );
        assert_eq!(codes(&top, Some(Path::new("/srv/static"))), vec![]);
    }

    #[test]
    fn an_app_naming_its_instance_wants_nginx_to_name_it_too() {
        let judged = |locations: &str| -> Vec<Code> {
            nginx_findings(
                &conf(locations),
                &NginxFacts {
                    static_url: "/static/",
                    static_root: None,
                    whitenoise: false,
                    names_instances: true,
                },
            )
            .into_iter()
            .map(|f| f.code)
            .collect()
        };
        let silent = judged("        location /static/ { alias /srv/static/; expires max; }");
        assert!(silent.contains(&Code::IL622), "{silent:?}");
        let named = judged(
            "        location /static/ { alias /srv/static/; expires max; add_header Server-Timing 'inst;desc=\"app1\"' always; }",
        );
        assert!(!named.contains(&Code::IL622), "{named:?}");
        // An add_header in the location replaces the server's: the name is lost there.
        let replaced = judged(
            "        add_header Server-Timing 'inst;desc=\"app1\"' always;\n        location /static/ { alias /srv/static/; expires max; add_header X-Content-Type-Options nosniff; }",
        );
        assert!(replaced.contains(&Code::IL622), "{replaced:?}");
        // Without interloper-django nothing is asked.
        let plain = codes(
            &conf("        location /static/ { alias /srv/static/; expires max; }"),
            None,
        );
        assert!(!plain.iter().any(|(c, _)| *c == Code::IL622));
    }

    #[test]
    fn a_clean_static_location_has_no_finding() {
        let c = conf(
            "        location /static/ { alias /srv/static/; expires max; }\n        location / { proxy_pass http://127.0.0.1:8000; }",
        );
        assert_eq!(codes(&c, Some(Path::new("/srv/static"))), vec![]);
    }

    #[test]
    fn alias_without_its_slash_is_named_with_its_line() {
        let c = conf(
            "        location /static/ {\n            alias /srv/static;\n            expires max;\n        }",
        );
        let f = nginx_findings(
            &c,
            &NginxFacts {
                static_url: "/static/",
                static_root: None,
                whitenoise: false,
                names_instances: false,
            },
        );
        assert_eq!(f[0].code, Code::IL602);
        assert_eq!(f[0].subject.as_deref(), Some("/etc/nginx/nginx.conf:9"));
        assert!(
            f[0].remedy.contains("alias /srv/static/;"),
            "{}",
            f[0].remedy
        );
    }

    #[test]
    fn a_regex_location_that_proxies_swallows_static_files() {
        let c = conf(
            "        location /static/ { alias /srv/static/; expires max; }\n        location ~* \\.(css|js)$ { proxy_pass http://127.0.0.1:8000; }",
        );
        assert_eq!(codes(&c, None), vec![(Code::IL604, Severity::Error)]);
        let fixed = conf(
            "        location ^~ /static/ { alias /srv/static/; expires max; }\n        location ~* \\.(css|js)$ { proxy_pass http://127.0.0.1:8000; }",
        );
        assert_eq!(codes(&fixed, None), vec![]);
    }

    #[test]
    fn pcre_lookarounds_in_a_regex_location_are_understood() {
        // `regex` alone cannot compile a lookahead; nginx's PCRE can, and so must lint.
        let c = conf(
            "        location /static/ { alias /srv/static/; expires max; }\n        location ~* ^/(?!api/).*\\.(css|js)$ { proxy_pass http://127.0.0.1:8000; }",
        );
        assert_eq!(codes(&c, None), vec![(Code::IL604, Severity::Error)]);
        // A negative lookahead that excludes /static/ leaves it to the prefix location.
        let spared = conf(
            "        location /static/ { alias /srv/static/; expires max; }\n        location ~* ^/(?!static/).*\\.(css|js)$ { proxy_pass http://127.0.0.1:8000; }",
        );
        assert_eq!(codes(&spared, None), vec![]);
    }

    #[test]
    fn root_where_alias_was_meant_and_another_directory() {
        let c = conf("        location /static/ { root /srv/static; expires max; }");
        assert_eq!(
            codes(&c, Some(Path::new("/srv/static/"))),
            vec![(Code::IL603, Severity::Error)]
        );
        let other = conf("        location /static/ { alias /srv/old/; expires max; }");
        assert_eq!(
            codes(&other, Some(Path::new("/srv/static"))),
            vec![(Code::IL612, Severity::Error)]
        );
    }

    #[test]
    fn missing_types_under_nosniff_is_an_error() {
        let text = "http {\n server {\n  add_header X-Content-Type-Options nosniff;\n  location /static/ { alias /s/; expires max; try_files $uri @app; }\n  location @app { proxy_pass http://127.0.0.1:1; }\n }\n}\n";
        let c = Config::from_sources(&[interloper_nginxconf::Source {
            path: "/n.conf".into(),
            text: text.into(),
        }]);
        let got = codes(&c, None);
        assert!(got.contains(&(Code::IL606, Severity::Error)), "{got:?}");
        assert!(got.contains(&(Code::IL605, Severity::Warning)), "{got:?}");
        assert!(got.contains(&(Code::IL608, Severity::Info)), "{got:?}");
    }

    #[test]
    fn other_sites_in_the_same_configuration_are_not_judged() {
        let c = conf(
            "        location /static/ { alias /srv/static/; expires max; }\n    }\n    server {\n        server_name other.example;\n        location / { proxy_pass http://127.0.0.1:9000; }",
        );
        assert_eq!(codes(&c, Some(Path::new("/srv/static"))), vec![]);
    }

    #[test]
    fn static_files_proxied_to_the_app() {
        let c = conf(
            "        location / { proxy_pass http://127.0.0.1:8000; proxy_buffering off; proxy_read_timeout 5s; expires max; }",
        );
        assert_eq!(codes(&c, None), vec![(Code::IL601, Severity::Error)]);
        let f = nginx_findings(
            &c,
            &NginxFacts {
                static_url: "/static/",
                static_root: None,
                whitenoise: true,
                names_instances: false,
            },
        );
        assert_eq!(
            f.iter().map(|f| f.code).collect::<Vec<_>>(),
            vec![Code::IL609]
        );
    }
}
