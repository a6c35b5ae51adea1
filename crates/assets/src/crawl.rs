//! A sans-I/O crawl: the caller fetches, this decides what to fetch next and keeps the
//! de-duplicated inventory. It bounds the stylesheet depth, the number of stylesheets and of
//! assets, and never asks for the same stylesheet twice (import cycles end).

use std::collections::{HashSet, VecDeque};

use url::Url;

use crate::Limits;
use crate::css::discover_css;
use crate::html::discover_html;
use crate::reference::{AssetKind, Discovery, Inventory, Note};

/// A stylesheet the caller should fetch and hand back with [`Crawl::add_stylesheet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingStylesheet {
    /// Where to fetch it.
    pub url: Url,
    /// 1 for sheets the page links, 2 for their imports, and so on.
    pub depth: usize,
}

/// Discovery across a page and the stylesheets it pulls in.
///
/// ```
/// use interloper_assets::{Crawl, Limits};
/// use url::Url;
///
/// let page = Url::parse("https://site.example/").unwrap();
/// let mut crawl = Crawl::new(Limits::default());
/// crawl.add_page(&page, br#"<link rel=stylesheet href="/a.css">"#, Some("text/html"));
/// while let Some(sheet) = crawl.next_stylesheet() {
///     // The caller fetches sheet.url here.
///     let body = b"@font-face { src: url(f.woff2) }";
///     crawl.add_stylesheet(&sheet, body, Some("text/css"));
/// }
/// assert_eq!(crawl.inventory().len(), 2);
/// ```
#[derive(Debug)]
pub struct Crawl {
    limits: Limits,
    inventory: Inventory,
    queue: VecDeque<PendingStylesheet>,
    queued: HashSet<String>,
    notes: Vec<Note>,
}

impl Crawl {
    /// An empty crawl.
    pub fn new(limits: Limits) -> Crawl {
        let inventory = Inventory::new(None, limits.max_references);
        Crawl {
            limits,
            inventory,
            queue: VecDeque::new(),
            queued: HashSet::new(),
            notes: Vec::new(),
        }
    }

    /// Adds the page (its final URL after redirects). Cross-origin is judged against it.
    /// Returns the page's own discovery (for its `base` and notes).
    pub fn add_page(&mut self, url: &Url, bytes: &[u8], content_type: Option<&str>) -> Discovery {
        if self.inventory.is_empty() {
            self.inventory = Inventory::new(Some(url), self.limits.max_references);
        }
        let d = discover_html(url, bytes, content_type, &self.limits);
        self.absorb(&d, 0);
        d
    }

    /// Adds a fetched stylesheet; its imports are queued one level deeper.
    pub fn add_stylesheet(
        &mut self,
        sheet: &PendingStylesheet,
        bytes: &[u8],
        content_type: Option<&str>,
    ) -> Discovery {
        let d = discover_css(&sheet.url, bytes, content_type, &self.limits);
        self.absorb(&d, sheet.depth);
        d
    }

    fn absorb(&mut self, d: &Discovery, depth: usize) {
        for n in &d.notes {
            if self.notes.len() < 1000 {
                self.notes.push(n.clone());
            }
        }
        for a in &d.assets {
            if !self.inventory.add(a.clone()) {
                self.notes.push(Note::TooManyReferences {
                    limit: self.limits.max_references,
                });
                return;
            }
            if a.kind != AssetKind::Stylesheet || self.queued.contains(a.url.as_str()) {
                continue;
            }
            let reason = if depth + 1 > self.limits.max_css_depth {
                Some(format!("import depth above {}", self.limits.max_css_depth))
            } else if self.queued.len() >= self.limits.max_stylesheets {
                Some(format!(
                    "more than {} stylesheets",
                    self.limits.max_stylesheets
                ))
            } else {
                None
            };
            match reason {
                Some(reason) => self.notes.push(Note::NotFollowed {
                    url: a.url.clone(),
                    reason,
                }),
                None => {
                    self.queued.insert(a.url.as_str().to_owned());
                    self.queue.push_back(PendingStylesheet {
                        url: a.url.clone(),
                        depth: depth + 1,
                    });
                }
            }
        }
    }

    /// The next stylesheet to fetch, breadth first.
    pub fn next_stylesheet(&mut self) -> Option<PendingStylesheet> {
        self.queue.pop_front()
    }

    /// Everything found so far.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Notes from every document, plus stylesheets not followed.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The inventory and notes.
    pub fn finish(self) -> (Inventory, Vec<Note>) {
        (self.inventory, self.notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_imports_with_bounded_depth_and_cycles() {
        let page = Url::parse("https://site.example/").unwrap();
        let mut crawl = Crawl::new(Limits {
            max_css_depth: 3,
            ..Limits::default()
        });
        crawl.add_page(
            &page,
            br#"<link rel=stylesheet href="/c/0.css"><style>@import "/c/0.css";</style>"#,
            None,
        );
        let mut fetched = Vec::new();
        while let Some(s) = crawl.next_stylesheet() {
            fetched.push((s.url.path().to_owned(), s.depth));
            // Every sheet imports the next one and the first one (a cycle).
            let n: usize = s.url.path()[3..].trim_end_matches(".css").parse().unwrap();
            let body = format!(
                "@import '{}.css'; @import '0.css'; a{{background:url(i{n}.png)}}",
                n + 1
            );
            crawl.add_stylesheet(&s, body.as_bytes(), None);
        }
        assert_eq!(
            fetched,
            vec![
                ("/c/0.css".into(), 1),
                ("/c/1.css".into(), 2),
                ("/c/2.css".into(), 3)
            ]
        );
        assert!(
            crawl
                .notes()
                .iter()
                .any(|n| matches!(n, Note::NotFollowed { url, .. } if url.path() == "/c/3.css"))
        );
        let (inv, _) = crawl.finish();
        let sheet0 = inv
            .get(&Url::parse("https://site.example/c/0.css").unwrap())
            .unwrap();
        assert_eq!(
            sheet0.provenance.len(),
            5,
            "link, style block and an import from each sheet"
        );
        assert!(
            inv.get(&Url::parse("https://site.example/c/i2.png").unwrap())
                .is_some()
        );
    }
}
