//! An nginx configuration reader: the output of `nginx -T` (every file nginx read, each after
//! a `# configuration file PATH:` marker) or single files, read into a tree of [`Directive`]s
//! that each know the file and line they come from, with `include` resolved among the files
//! given.
//!
//! Pure: no I/O. It follows nginx's own tokeniser (`ngx_conf_read_token`): words, `"…"` and
//! `'…'` quoting with nginx's escapes, `#` comments at the start of a word, `${var}` inside
//! words, `;`, `{` and `}`. Anything it cannot read becomes a [`Problem`] and reading goes on;
//! it never panics, and nesting, include depth and directive count are bounded.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::sync::Arc;

/// Deepest block nesting read; deeper blocks are a [`Problem`] (nginx itself stops far
/// earlier in practice).
pub const MAX_DEPTH: usize = 64;
/// Deepest chain of includes followed.
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// Most directives kept for one configuration, includes expanded.
pub const MAX_DIRECTIVES: usize = 500_000;
/// Most problems kept.
const MAX_PROBLEMS: usize = 100;
/// Character comparisons spent matching `include` patterns against file names, in all; an
/// input built to make matching slow runs out of them and its includes stay unresolved.
const MAX_GLOB_STEPS: u64 = 20_000_000;

/// One file's text and its path as nginx names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Absolute path, as in the `# configuration file` marker.
    pub path: String,
    /// Its content.
    pub text: String,
}

/// One directive: name, arguments (unquoted), where it is, and its block if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// `location`, `alias`, …
    pub name: String,
    /// The arguments, quotes removed and nginx's escapes applied.
    pub args: Vec<String>,
    /// The file it was read from.
    pub file: Arc<str>,
    /// 1-based line of its name.
    pub line: u32,
    /// The block's directives, for `http { … }`, `location … { … }` and the like.
    pub block: Option<Vec<Directive>>,
}

impl Directive {
    /// `file:line`.
    pub fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The block's directives (empty for a simple directive).
    pub fn children(&self) -> &[Directive] {
        self.block.as_deref().unwrap_or(&[])
    }

    /// Argument `i`, if present.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(String::as_str)
    }

    /// The directives of the block named `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Directive> + 'a {
        self.children().iter().filter(move |d| d.name == name)
    }

    /// The last directive of the block named `name` (nginx keeps the last of duplicates
    /// for most directives; it rejects the duplicates that matter).
    pub fn last(&self, name: &str) -> Option<&Directive> {
        self.children().iter().rev().find(|d| d.name == name)
    }

    /// The directive as written, arguments quoted when they need it: `alias /srv/static`.
    pub fn text(&self) -> String {
        let mut s = self.name.clone();
        for a in &self.args {
            s.push(' ');
            if a.is_empty()
                || a.contains(|c: char| {
                    c.is_whitespace() || matches!(c, ';' | '{' | '}' | '"' | '\'')
                })
            {
                s.push('"');
                s.push_str(&a.replace('\\', "\\\\").replace('"', "\\\""));
                s.push('"');
            } else {
                s.push_str(a);
            }
        }
        s
    }
}

/// Something that could not be read as nginx would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A whole configuration: the main file's directives with includes expanded in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The main context (`user`, `events`, `http`, …).
    pub directives: Vec<Directive>,
    /// Every file given, main file first.
    pub files: Vec<String>,
    /// What could not be read.
    pub problems: Vec<Problem>,
    /// `include` directives whose pattern matched none of the files given (they stay in the
    /// tree as `include` directives).
    pub unresolved: Vec<Directive>,
}

/// The marker `nginx -T` writes before each file.
const MARKER: &str = "# configuration file ";

/// Splits `nginx -T` output into the files it dumps. Lines before the first marker (nginx's
/// "syntax is ok" lines when stderr was merged) are dropped.
pub fn split_dump(text: &str) -> Vec<Source> {
    let mut sources: Vec<Source> = Vec::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if let Some(rest) = bare.strip_prefix(MARKER)
            && let Some(path) = rest.strip_suffix(':')
        {
            sources.push(Source {
                path: path.to_string(),
                text: String::new(),
            });
            continue;
        }
        if let Some(s) = sources.last_mut() {
            s.text.push_str(line);
        }
    }
    sources
}

impl Config {
    /// Reads `nginx -T` output.
    pub fn from_dump(text: &str) -> Config {
        Config::from_sources(&split_dump(text))
    }

    /// Reads the first source as the main file and expands its includes from all of them
    /// (a pattern relative to the main file's directory, `*` and `?` wildcards, matches in
    /// name order as nginx takes them).
    pub fn from_sources(sources: &[Source]) -> Config {
        let mut config = Config {
            files: sources.iter().map(|s| s.path.clone()).collect(),
            ..Config::default()
        };
        let Some(main) = sources.first() else {
            return config;
        };
        let parsed: Vec<(Vec<Directive>, Vec<Problem>)> = sources
            .iter()
            .map(|s| parse_file(&s.path, &s.text))
            .collect();
        for (_, problems) in &parsed {
            for p in problems {
                push_problem(&mut config.problems, p.clone());
            }
        }
        let base = match main.path.rfind('/') {
            Some(i) => &main.path[..=i],
            None => "",
        };
        let mut budget = MAX_DIRECTIVES;
        let mut expander = Expander {
            sources,
            parsed: &parsed,
            base,
            budget: &mut budget,
            unresolved: Vec::new(),
            problems: Vec::new(),
            matched: std::collections::HashMap::new(),
            glob_steps: MAX_GLOB_STEPS,
        };
        let directives = expander.expand(&parsed[0].0, 0);
        let (unresolved, problems) = (expander.unresolved, expander.problems);
        config.directives = directives;
        config.unresolved = unresolved;
        for p in problems {
            push_problem(&mut config.problems, p);
        }
        config
    }

    /// The last main-context directive named `name`.
    pub fn main_last(&self, name: &str) -> Option<&Directive> {
        self.directives.iter().rev().find(|d| d.name == name)
    }

    /// Every `server` block inside `http` blocks, with its `http` block.
    pub fn http_servers(&self) -> Vec<(&Directive, &Directive)> {
        self.directives
            .iter()
            .filter(|d| d.name == "http")
            .flat_map(|http| http.all("server").map(move |s| (http, s)))
            .collect()
    }
}

fn push_problem(list: &mut Vec<Problem>, p: Problem) {
    if list.len() < MAX_PROBLEMS {
        list.push(p);
    }
}

struct Expander<'a> {
    sources: &'a [Source],
    parsed: &'a [(Vec<Directive>, Vec<Problem>)],
    base: &'a str,
    budget: &'a mut usize,
    unresolved: Vec<Directive>,
    problems: Vec<Problem>,
    /// Each pattern is matched once: an include reached again (a file included many times)
    /// costs a lookup, not a scan of every file.
    matched: std::collections::HashMap<String, Option<Vec<usize>>>,
    glob_steps: u64,
}

impl Expander<'_> {
    /// The files `full` names, in name order (nginx's), or `None` once matching has cost
    /// [`MAX_GLOB_STEPS`].
    fn matches(&mut self, full: &str) -> Option<Vec<usize>> {
        if let Some(m) = self.matched.get(full) {
            return m.clone();
        }
        let mut found = Some(Vec::new());
        for (i, src) in self.sources.iter().enumerate() {
            match glob_match_within(full, &src.path, &mut self.glob_steps) {
                Some(true) => found.as_mut().map_or((), |v| v.push(i)),
                Some(false) => {}
                None => {
                    found = None;
                    break;
                }
            }
        }
        if let Some(v) = found.as_mut() {
            v.sort_by(|&a, &b| self.sources[a].path.cmp(&self.sources[b].path));
        }
        self.matched.insert(full.to_string(), found.clone());
        found
    }

    fn expand(&mut self, list: &[Directive], depth: usize) -> Vec<Directive> {
        let mut out = Vec::new();
        for d in list {
            if *self.budget == 0 {
                break;
            }
            if d.name == "include" && d.block.is_none() {
                // Includes cost budget too, so a file that includes itself twice cannot
                // make the expansion exponential.
                *self.budget -= 1;
                let pattern = d.arg(0).unwrap_or("");
                let full = if pattern.starts_with('/') {
                    pattern.to_string()
                } else {
                    format!("{}{pattern}", self.base)
                };
                let Some(matches) = self.matches(&full) else {
                    push_problem(
                        &mut self.problems,
                        Problem {
                            file: d.file.clone(),
                            line: d.line,
                            message: "include patterns too costly to match: not followed".into(),
                        },
                    );
                    self.unresolved.push(d.clone());
                    out.push(d.clone());
                    continue;
                };
                if matches.is_empty() {
                    self.unresolved.push(d.clone());
                    out.push(d.clone());
                    continue;
                }
                if depth >= MAX_INCLUDE_DEPTH {
                    push_problem(
                        &mut self.problems,
                        Problem {
                            file: d.file.clone(),
                            line: d.line,
                            message: format!(
                                "includes nested deeper than {MAX_INCLUDE_DEPTH}: not followed"
                            ),
                        },
                    );
                    continue;
                }
                let parsed = self.parsed;
                for i in matches {
                    let inner = self.expand(&parsed[i].0, depth + 1);
                    out.extend(inner);
                }
                continue;
            }
            *self.budget -= 1;
            let block = d.block.as_ref().map(|b| self.expand(b, depth));
            out.push(Directive {
                name: d.name.clone(),
                args: d.args.clone(),
                file: d.file.clone(),
                line: d.line,
                block,
            });
        }
        out
    }
}

/// nginx's `include` glob: `*` any run of characters except `/`, `?` one character.
/// Iterative with backtracking to the last star, so it costs O(pattern × path) at worst.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let mut unlimited = u64::MAX;
    glob_match_within(pattern, path, &mut unlimited).unwrap_or(false)
}

/// [`glob_match`] spending at most `steps` (decremented); `None` when they run out.
fn glob_match_within(pattern: &str, path: &str, steps: &mut u64) -> Option<bool> {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        *steps = steps.checked_sub(1)?;
        if pi < p.len() && (p[pi] == '?' && s[si] != '/' || p[pi] == s[si] && p[pi] != '*') {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star
            && s[ss] != '/'
        {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return Some(false);
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    Some(pi == p.len())
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Semi,
    Open,
    Close,
}

/// A tokeniser over one file, after nginx's `ngx_conf_read_token`.
struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
}

impl Lexer<'_> {
    /// The next token and its line, or why the rest cannot be read.
    fn next(&mut self) -> Option<Result<(Token, u32), (u32, String)>> {
        loop {
            let c = *self.chars.peek()?;
            match c {
                '\n' => {
                    self.line += 1;
                    self.chars.next();
                }
                c if c.is_whitespace() => {
                    self.chars.next();
                }
                '#' => {
                    while let Some(&c) = self.chars.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.chars.next();
                    }
                }
                ';' => {
                    self.chars.next();
                    return Some(Ok((Token::Semi, self.line)));
                }
                '{' => {
                    self.chars.next();
                    return Some(Ok((Token::Open, self.line)));
                }
                '}' => {
                    self.chars.next();
                    return Some(Ok((Token::Close, self.line)));
                }
                '"' | '\'' => {
                    let start = self.line;
                    self.chars.next();
                    let mut word = String::new();
                    loop {
                        let Some(ch) = self.chars.next() else {
                            return Some(Err((start, format!("unterminated {c}quoted{c} string"))));
                        };
                        match ch {
                            '\\' => self.escape(&mut word),
                            ch if ch == c => break,
                            '\n' => {
                                self.line += 1;
                                word.push(ch);
                            }
                            ch => word.push(ch),
                        }
                    }
                    return Some(Ok((Token::Word(word), start)));
                }
                _ => {
                    let start = self.line;
                    let mut word = String::new();
                    let mut in_var_braces = false;
                    while let Some(&ch) = self.chars.peek() {
                        if in_var_braces {
                            if ch == '\n' {
                                break;
                            }
                            word.push(ch);
                            self.chars.next();
                            if ch == '}' {
                                in_var_braces = false;
                            }
                            continue;
                        }
                        if ch.is_whitespace() || matches!(ch, ';' | '{' | '}') {
                            // `${name}`: the brace belongs to the word.
                            if ch == '{' && word.ends_with('$') {
                                in_var_braces = true;
                                word.push(ch);
                                self.chars.next();
                                continue;
                            }
                            break;
                        }
                        self.chars.next();
                        if ch == '\\' {
                            self.escape(&mut word);
                        } else {
                            word.push(ch);
                        }
                    }
                    return Some(Ok((Token::Word(word), start)));
                }
            }
        }
    }

    /// After a backslash: nginx unescapes `\"`, `\'`, `\\`, `\t`, `\r`, `\n` and keeps any
    /// other backslash (so regexes such as `\.css$` arrive intact).
    fn escape(&mut self, word: &mut String) {
        match self.chars.peek().copied() {
            Some(c @ ('"' | '\'' | '\\')) => {
                word.push(c);
                self.chars.next();
            }
            Some('t') => {
                word.push('\t');
                self.chars.next();
            }
            Some('r') => {
                word.push('\r');
                self.chars.next();
            }
            Some('n') => {
                word.push('\n');
                self.chars.next();
            }
            _ => word.push('\\'),
        }
    }
}

/// Reads one file into its directives (includes left as they are) and what could not be
/// read. Never panics; nesting is bounded by [`MAX_DEPTH`].
pub fn parse_file(path: &str, text: &str) -> (Vec<Directive>, Vec<Problem>) {
    let mut tree = TreeBuilder {
        file: Arc::from(path),
        problems: Vec::new(),
        stack: Vec::new(),
        top: Vec::new(),
        words: Vec::new(),
        first_line: 1,
        count: 0,
    };
    let mut lexer = Lexer {
        chars: text.chars().peekable(),
        line: 1,
    };
    while let Some(tok) = lexer.next() {
        let (tok, line) = match tok {
            Ok(t) => t,
            Err((line, msg)) => {
                tree.problem(line, msg);
                break;
            }
        };
        let go_on = match tok {
            Token::Word(w) => {
                tree.word(w, line);
                true
            }
            Token::Semi | Token::Open => tree.end_directive(tok == Token::Open, line),
            Token::Close => {
                tree.close_block(line);
                true
            }
        };
        if !go_on {
            break;
        }
    }
    tree.finish(lexer.line)
}

/// The directive tree of one file as its tokens arrive, with the problems met on the way.
struct TreeBuilder {
    file: Arc<str>,
    problems: Vec<Problem>,
    /// Open blocks: the directive that opened each and what it holds so far.
    stack: Vec<(Directive, Vec<Directive>)>,
    /// The file's top-level directives.
    top: Vec<Directive>,
    /// The directive being read: its words and the line of the first.
    words: Vec<String>,
    first_line: u32,
    /// Directives read, against [`MAX_DIRECTIVES`].
    count: usize,
}

impl TreeBuilder {
    fn problem(&mut self, line: u32, message: String) {
        push_problem(
            &mut self.problems,
            Problem {
                file: self.file.clone(),
                line,
                message,
            },
        );
    }

    fn word(&mut self, w: String, line: u32) {
        if self.words.is_empty() {
            self.first_line = line;
        }
        self.words.push(w);
    }

    /// A `;` or a `{` ends the words of a directive. False when reading must stop (a bound
    /// was reached).
    fn end_directive(&mut self, opens_block: bool, line: u32) -> bool {
        if self.words.is_empty() {
            if !opens_block {
                return true;
            }
            self.problem(line, "a block without a directive name".into());
            // Read it as an anonymous block so its `}` balances.
            self.words.push(String::new());
            self.first_line = line;
        }
        self.count += 1;
        if self.count > MAX_DIRECTIVES {
            self.problem(
                line,
                format!("more than {MAX_DIRECTIVES} directives: the rest is not read"),
            );
            return false;
        }
        let mut it = std::mem::take(&mut self.words).into_iter();
        let d = Directive {
            name: it.next().unwrap_or_default(),
            args: it.collect(),
            file: self.file.clone(),
            line: self.first_line,
            block: None,
        };
        if !opens_block {
            self.attach(d);
        } else if self.stack.len() >= MAX_DEPTH {
            self.problem(
                line,
                format!("blocks nested deeper than {MAX_DEPTH}: the rest is not read"),
            );
            return false;
        } else {
            self.stack.push((d, Vec::new()));
        }
        true
    }

    /// A `}`: the innermost open block is complete.
    fn close_block(&mut self, line: u32) {
        if let Some(first) = self.words.first() {
            let message = format!("`{first}` is not terminated by \";\"");
            self.problem(line, message);
            self.words.clear();
        }
        match self.stack.pop() {
            Some((mut d, children)) => {
                d.block = Some(children);
                self.attach(d);
            }
            None => self.problem(line, "unexpected \"}\"".into()),
        }
    }

    /// Adds a complete directive to the innermost open block, or to the top level.
    fn attach(&mut self, d: Directive) {
        match self.stack.last_mut() {
            Some((_, children)) => children.push(d),
            None => self.top.push(d),
        }
    }

    /// The end of the file: an unterminated directive is reported, and what the file left
    /// open is closed so what was read is kept.
    fn finish(mut self, last_line: u32) -> (Vec<Directive>, Vec<Problem>) {
        if let Some(first) = self.words.first() {
            let message = format!("`{first}` is not terminated by \";\" at the end of the file");
            self.problem(last_line, message);
        }
        while let Some((mut d, children)) = self.stack.pop() {
            self.problem(d.line, format!("`{}` block is not closed", d.name));
            d.block = Some(children);
            self.attach(d);
        }
        (self.top, self.problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_blocks_quotes_comments_and_variables() {
        let text = "user www-data; # who\nhttp {\n  log_format main '$remote_addr \"$request\"';\n  server {\n    location ~* \"\\.(css|js)$\" { add_header X-A ${host}x; }\n    location /static/ { alias /srv/static/; }\n  }\n}\n";
        let (top, problems) = parse_file("/etc/nginx/nginx.conf", text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(top[0].text(), "user www-data");
        let http = &top[1];
        assert_eq!(http.name, "http");
        assert_eq!(http.children()[0].args[1], "$remote_addr \"$request\"");
        let server = &http.children()[1];
        let regex = &server.children()[0];
        assert_eq!(regex.args, ["~*", "\\.(css|js)$"]);
        assert_eq!(regex.line, 5);
        assert_eq!(regex.children()[0].args, ["X-A", "${host}x"]);
        let alias = &server.children()[1].children()[0];
        assert_eq!(alias.at(), "/etc/nginx/nginx.conf:6");
    }

    #[test]
    fn a_dump_is_split_at_its_markers_and_includes_are_expanded() {
        let dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
            # configuration file /etc/nginx/nginx.conf:\n\
            http {\n    include mime.types;\n    include sites/*.conf;\n    include missing.conf;\n}\n\n\
            # configuration file /etc/nginx/mime.types:\n\
            types {\n    text/css css;\n}\n\n\
            # configuration file /etc/nginx/sites/b.conf:\n\
            server { listen 81; }\n\
            # configuration file /etc/nginx/sites/a.conf:\n\
            \n\nserver { listen 80; }\n";
        let config = Config::from_dump(dump);
        assert_eq!(config.files.len(), 4);
        assert!(config.problems.is_empty(), "{:?}", config.problems);
        let http = &config.directives[0];
        let names: Vec<&str> = http.children().iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["types", "server", "server", "include"]);
        let servers = config.http_servers();
        assert_eq!(servers[0].1.children()[0].args, ["80"]);
        assert_eq!(servers[0].1.at(), "/etc/nginx/sites/a.conf:3");
        assert_eq!(config.unresolved.len(), 1);
    }

    #[test]
    fn garbage_becomes_problems_not_panics() {
        for text in [
            "}",
            "{",
            "a \"b",
            "a b",
            "a { b",
            "a ${x",
            "\\",
            "{{{{}}}}}}",
            "'",
            "a;;;",
        ] {
            let (_, _) = parse_file("f", text);
        }
        let deep = "a {".repeat(MAX_DEPTH * 2);
        let (_, problems) = parse_file("f", &deep);
        assert!(!problems.is_empty());
        // An include of itself stops at the depth bound.
        let looped = [Source {
            path: "/n.conf".into(),
            text: "include /n.conf; x;".into(),
        }];
        let c = Config::from_sources(&looped);
        assert!(!c.problems.is_empty());
    }

    #[test]
    fn files_that_include_each_other_stay_within_the_budget() {
        // Each file includes every file twice: without the budget, 400^16 expansions.
        let sources: Vec<Source> = (0..200)
            .map(|i| Source {
                path: format!("/f{i}.conf"),
                text: "include /*.conf;\nx a;\ninclude /f*.conf;\n".into(),
            })
            .collect();
        let c = Config::from_sources(&sources);
        fn count(list: &[Directive]) -> usize {
            list.iter().map(|d| 1 + count(d.children())).sum()
        }
        assert!(count(&c.directives) <= MAX_DIRECTIVES);
        assert!(!c.problems.is_empty());
        assert!(c.problems.len() <= MAX_PROBLEMS);
    }

    #[test]
    fn globs_match_like_nginx_includes() {
        assert!(glob_match(
            "/etc/nginx/conf.d/*.conf",
            "/etc/nginx/conf.d/a.conf"
        ));
        assert!(!glob_match(
            "/etc/nginx/conf.d/*.conf",
            "/etc/nginx/conf.d/x/a.conf"
        ));
        assert!(glob_match("/a/?.conf", "/a/b.conf"));
        assert!(!glob_match("/a/b", "/a/bc"));
        assert!(glob_match("*", "x"));
    }
}
