//! The reader on mutated real configurations, bounded in time, so `cargo test` catches a panic
//! without a fuzzing toolchain (the `nginx_config` fuzz target goes further).

use interloper_nginxconf::{Config, parse_file};

/// A Debian-style `nginx -T` dump: includes, quoting, regexes, `${var}`, comments.
const DUMP: &str = r#"nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
# configuration file /etc/nginx/nginx.conf:
user www-data;
worker_processes auto;
include /etc/nginx/modules-enabled/*.conf;
events { worker_connections 768; }
http {
    sendfile on; tcp_nopush on;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format main '$remote_addr "$request" ${status}x';
    include /etc/nginx/sites-enabled/*;
}

# configuration file /etc/nginx/mime.types:
types {
    text/html html htm shtml;
    text/css css;
    application/javascript js;
}

# configuration file /etc/nginx/sites-enabled/app:
server {
    listen 80;
    server_name app.example "www.app.example";
    location ^~ /static/ { alias /srv/app/static/; expires max; add_header X-Content-Type-Options nosniff; }
    location ~* "\.(css|js)$" { try_files $uri @app; }
    location @app { proxy_pass http://127.0.0.1:8000; proxy_set_header Host $http_host; }
    if ($http_user_agent ~ "bot\{2\}") { return 403; }
}
"#;

/// xorshift: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn the_dump_reads_whole() {
    let c = Config::from_dump(DUMP);
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(c.files.len(), 3);
    let servers = c.http_servers();
    assert_eq!(servers.len(), 1);
    assert_eq!(
        servers[0].1.at(),
        "/etc/nginx/sites-enabled/app:1",
        "file:line from the markers"
    );
    // The modules glob matched nothing given: it stays, and is listed.
    assert_eq!(c.unresolved.len(), 1);
}

#[test]
fn random_mutations_never_panic() {
    let bytes = DUMP.as_bytes();
    let special = b"{};\"'\\#$\n ";
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..4000 {
        let mut m = bytes.to_vec();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(m.len());
            match rng.below(4) {
                0 => m[at] = special[rng.below(special.len())],
                1 => m.insert(at, special[rng.below(special.len())]),
                2 => {
                    m.remove(at);
                }
                _ => m.truncate(at),
            }
            if m.is_empty() {
                break;
            }
        }
        let text = String::from_utf8_lossy(&m);
        let (directives, _) = parse_file("/m.conf", &text);
        for d in &directives {
            let _ = d.text();
        }
        let c = Config::from_dump(&text);
        let _ = c.http_servers();
    }
}
