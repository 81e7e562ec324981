//! Differential test: the matcher against lol_html (the engine it replaced, kept as a
//! dev-dependency for this) on random well-formed documents, where lol_html's lack of implicit
//! end tags does not matter. The lol_html side is the former extractor, handlers and all.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use lol_html::send::{ElementContentHandlers, EndTagHandler, HtmlRewriter, Settings};

use super::{collapse, CssRun, Selector, MAX_VALUE};

/// What one extractor gathered on the lol_html side.
#[derive(Default)]
struct LolSlot {
    values: Vec<String>,
    open: Vec<usize>,
    done: bool,
}

type Shared = Arc<Mutex<Vec<LolSlot>>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Vec<LolSlot>> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The former lol_html-based extractor, on `doc` in one piece.
fn lol(doc: &str, specs: &[(&str, Option<&str>)], all: bool) -> Vec<Vec<String>> {
    let slots: Shared = Arc::new(Mutex::new(
        specs.iter().map(|_| LolSlot::default()).collect(),
    ));
    let mut settings = Settings::new_send();
    for (i, (selector, attr)) in specs.iter().enumerate() {
        let attr = attr.map(str::to_owned);
        let on_element = {
            let slots = slots.clone();
            let attr = attr.clone();
            move |el: &mut lol_html::send::Element<'_, '_>| {
                let mut all_slots = lock(&slots);
                let slot = &mut all_slots[i];
                if slot.done || (!all && !slot.values.is_empty()) {
                    return Ok(());
                }
                if let Some(name) = &attr {
                    if let Some(v) = el.get_attribute(name) {
                        slot.values.push(v);
                        slot.done = !all;
                    }
                    return Ok(());
                }
                slot.values.push(String::new());
                let at = slot.values.len() - 1;
                if !el.can_have_content() {
                    slot.done = !all;
                    return Ok(());
                }
                slot.open.push(at);
                drop(all_slots);
                if let Some(handlers) = el.end_tag_handlers() {
                    let slots = slots.clone();
                    let end: EndTagHandler<'static> = Box::new(move |_| {
                        let mut all_slots = lock(&slots);
                        let slot = &mut all_slots[i];
                        slot.open.retain(|&o| o != at);
                        if !all && slot.open.is_empty() {
                            slot.done = true;
                        }
                        Ok(())
                    });
                    handlers.push(end);
                }
                Ok(())
            }
        };
        let mut handlers = ElementContentHandlers::default().element(on_element);
        if attr.is_none() {
            let slots = slots.clone();
            handlers = handlers.text(move |t: &mut lol_html::html_content::TextChunk<'_>| {
                let mut all_slots = lock(&slots);
                let slot = &mut all_slots[i];
                for &o in &slot.open {
                    let v = &mut slot.values[o];
                    if v.len() + t.as_str().len() <= MAX_VALUE {
                        v.push_str(t.as_str());
                    }
                }
                Ok(())
            });
        }
        let selector = lol_html::Selector::from_str(selector)
            .unwrap_or_else(|e| panic!("lol_html rejects {selector}: {e}"));
        settings = settings.append_element_content_handler((Cow::Owned(selector), handlers));
    }
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    rewriter.write(doc.as_bytes()).expect("lol_html write");
    rewriter.end().expect("lol_html end");
    let slots = std::mem::take(&mut *lock(&slots));
    slots
        .into_iter()
        .zip(specs)
        .map(|(slot, (_, attr))| {
            slot.values
                .into_iter()
                .map(|v| {
                    let v = htmlize::unescape(v);
                    if attr.is_some() {
                        v.into_owned()
                    } else {
                        collapse(&v)
                    }
                })
                .collect()
        })
        .collect()
}

/// Ours, on `doc` split at `cut`.
fn ours(doc: &str, specs: &[(&str, Option<&str>)], all: bool, cut: usize) -> Vec<Vec<String>> {
    let parsed: Vec<(Selector, Option<String>)> = specs
        .iter()
        .map(|(s, a)| (Selector::parse(s).unwrap(), a.map(str::to_owned)))
        .collect();
    let refs: Vec<_> = parsed.iter().map(|(s, a)| (s, a)).collect();
    let mut r = CssRun::new(&refs, all);
    let (a, b) = doc.as_bytes().split_at(cut);
    r.feed(a);
    r.feed(b);
    r.finish()
}

/// Random well-formed documents: nested elements with explicit end tags (none that HTML closes
/// implicitly), attributes for the selectors below, text with references, comments, void
/// elements and scripts holding fake tags.
struct Gen(fastrand::Rng);

const TAGS: [&str; 10] = [
    "div", "span", "a", "b", "em", "section", "article", "nav", "i", "DIV",
];

impl Gen {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.0.usize(..from.len())]
    }

    fn doc(&mut self) -> String {
        let mut out = String::from("<!DOCTYPE html><html><body>");
        for _ in 0..self.0.usize(1..4) {
            self.element(&mut out, 0);
        }
        out.push_str("</body></html>");
        out
    }

    fn element(&mut self, out: &mut String, depth: usize) {
        let tag = self.pick(&TAGS);
        out.push('<');
        out.push_str(tag);
        let attrs: [(&str, &[&str]); 5] = [
            ("class", &["x", "y", "x y", "z  x", "X"]),
            ("id", &["a", "b", "c"]),
            ("data-k", &["1", "2", "12", "ab", "1 2", ""]),
            ("lang", &["en", "en-US", "fr"]),
            ("href", &["/p", "/q?a=1&amp;b=2", "'quoted'"]),
        ];
        for (name, values) in attrs {
            if self.0.u8(..3) == 0 {
                let v = self.pick(values);
                match self.0.u8(..3) {
                    0 if !v.is_empty() && !v.contains([' ', '\'', '&']) => {
                        out.push_str(&format!(" {name}={v}"))
                    }
                    1 if !v.contains('\'') => out.push_str(&format!(" {name}='{v}'")),
                    _ => out.push_str(&format!(" {name}=\"{v}\"")),
                }
            }
        }
        out.push('>');
        let children = if depth > 5 { 0 } else { self.0.usize(0..5) };
        for _ in 0..children {
            match self.0.u8(..10) {
                0..=3 => self.element(out, depth + 1),
                4..=6 => out.push_str(self.pick(&[
                    "alpha",
                    " beta  gamma ",
                    "\n",
                    "x &amp; y",
                    "&lt;b&gt;",
                    "é",
                    "a > b",
                ])),
                7 => out.push_str(self.pick(&["<!-- <b>c</b> -->", "<!---->"])),
                8 => out.push_str(self.pick(&["<br>", "<img src=i.png>", "<hr/>"])),
                _ => out.push_str(self.pick(&[
                    "<script>if (a<b) '<span>x</span>'</script>",
                    "<style>b>i{}</style>",
                ])),
            }
        }
        out.push_str("</");
        out.push_str(tag);
        out.push('>');
    }
}

const SELECTORS: [(&str, Option<&str>); 30] = [
    ("div", None),
    ("span", None),
    ("*", None),
    (".x", None),
    (".x.y", None),
    ("#a", None),
    ("div#b.x", None),
    ("div > span", None),
    ("section b", None),
    ("div .x > *", None),
    ("div > div > span", None),
    ("[data-k]", None),
    ("[data-k='12']", None),
    ("[data-k^=\"1\"]", None),
    ("[data-k$='2']", None),
    ("[data-k*=b]", None),
    ("[data-k~='2']", None),
    ("[lang|=en]", None),
    ("[class=x i]", None),
    (":first-child", None),
    ("span:nth-child(2n+1)", None),
    ("b:nth-of-type(2)", None),
    ("div:first-of-type > *:nth-child(-n+2)", None),
    ("div:not(.x)", None),
    (":not(div):not(span)", None),
    ("div span, b, em", None),
    ("a", Some("href")),
    ("img", Some("src")),
    ("div", Some("class")),
    ("script", None),
];

#[test]
fn agrees_with_lol_html_on_random_documents() {
    let mut g = Gen(fastrand::Rng::with_seed(7));
    let mut found = [0usize; SELECTORS.len()];
    for n in 0..500 {
        let doc = g.doc();
        let cut = g.0.usize(..=doc.len());
        for all in [false, true] {
            let expected = lol(&doc, &SELECTORS, all);
            let got = ours(&doc, &SELECTORS, all, cut);
            for (i, ((spec, e), o)) in SELECTORS.iter().zip(&expected).zip(&got).enumerate() {
                assert_eq!(o, e, "document {n}, {spec:?}, all {all}:\n{doc}");
                found[i] += o.len();
            }
        }
    }
    // Every selector matched often enough for the comparison to mean something.
    for (spec, n) in SELECTORS.iter().zip(found) {
        assert!(n >= 10, "{spec:?} matched {n} times");
    }
}
