//! CSS extractors on the streamed body: one lol_html rewriter per response (its output is
//! discarded) with a handler pair per extractor. Text is gathered while a matched element is
//! open, so nested markup (`<h1>Hello <b>world</b></h1>`) yields its whole text.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use lol_html::send::{ElementContentHandlers, EndTagHandler, HtmlRewriter, Settings};

/// Longest text or attribute kept per extractor (the rest is dropped).
const MAX_VALUE: usize = 64 * 1024;

/// What one CSS extractor has gathered.
#[derive(Default)]
struct Slot {
    /// One entry per match (only the first unless `all`).
    values: Vec<String>,
    /// Matches whose end tag has not come yet (indexes into `values`).
    open: Vec<usize>,
    /// The first match has ended (and not `all`): stop.
    done: bool,
}

type Shared = Arc<Mutex<Vec<Slot>>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Vec<Slot>> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A rewriter whose output is discarded.
type Scanner = HtmlRewriter<'static, fn(&[u8])>;

/// The CSS extractors of one response.
pub struct CssRun {
    rewriter: Option<Scanner>,
    slots: Shared,
    /// The attribute each slot takes, if any.
    attrs: Vec<Option<String>>,
}

fn discard(_: &[u8]) {}

impl CssRun {
    /// A run for `(selector, attr)` pairs, in order.
    pub fn new(specs: &[(&lol_html::Selector, &Option<String>)], all: bool) -> Self {
        let slots: Shared = Arc::new(Mutex::new(specs.iter().map(|_| Slot::default()).collect()));
        let mut settings = Settings::new_send();
        for (i, (selector, attr)) in specs.iter().enumerate() {
            let attr = (*attr).clone();
            let on_element = {
                let slots = slots.clone();
                move |el: &mut lol_html::send::Element<'_, '_>| {
                    let mut all_slots = lock(&slots);
                    let slot = &mut all_slots[i];
                    if slot.done || (!all && !slot.values.is_empty()) {
                        return Ok(());
                    }
                    if let Some(name) = &attr {
                        if let Some(v) = el.get_attribute(name) {
                            slot.values.push(clip(v));
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
            if attr_is_none(specs[i].1) {
                let slots = slots.clone();
                handlers = handlers.text(move |t: &mut lol_html::html_content::TextChunk<'_>| {
                    let mut all_slots = lock(&slots);
                    let slot = &mut all_slots[i];
                    let text = t.as_str();
                    for &o in &slot.open {
                        let v = &mut slot.values[o];
                        if v.len() + text.len() <= MAX_VALUE {
                            v.push_str(text);
                        }
                    }
                    Ok(())
                });
            }
            settings = settings
                .append_element_content_handler((Cow::Owned((*selector).clone()), handlers));
        }
        CssRun {
            rewriter: Some(HtmlRewriter::new(settings, discard as fn(&[u8]))),
            slots,
            attrs: specs.iter().map(|(_, a)| (*a).clone()).collect(),
        }
    }

    /// Feeds a piece of the decoded body. A document lol_html cannot parse stops the run
    /// (what was found so far stays).
    pub fn feed(&mut self, piece: &[u8]) {
        if let Some(r) = &mut self.rewriter {
            if r.write(piece).is_err() {
                self.rewriter = None;
            }
        }
    }

    /// The values found per extractor, entities decoded; texts have their whitespace collapsed.
    pub fn finish(mut self) -> Vec<Vec<String>> {
        if let Some(r) = self.rewriter.take() {
            let _ = r.end();
        }
        let slots = std::mem::take(&mut *lock(&self.slots));
        slots
            .into_iter()
            .zip(&self.attrs)
            .map(|(slot, attr)| {
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
}

fn attr_is_none(attr: &Option<String>) -> bool {
    attr.is_none()
}

fn clip(mut v: String) -> String {
    if v.len() > MAX_VALUE {
        let mut end = MAX_VALUE;
        while !v.is_char_boundary(end) {
            end -= 1;
        }
        v.truncate(end);
    }
    v
}

/// Whitespace runs become one space; none at either end.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn run(html: &[&str], sel: &str, attr: Option<&str>, all: bool) -> Vec<String> {
        let selector = lol_html::Selector::from_str(sel).unwrap();
        let attr = attr.map(str::to_owned);
        let mut r = CssRun::new(&[(&selector, &attr)], all);
        for piece in html {
            r.feed(piece.as_bytes());
        }
        r.finish().remove(0)
    }

    #[test]
    fn text_of_the_first_match_across_pieces_and_nested_tags() {
        let html = [
            "<html><h1 class=t>Hello <b>wo",
            "rld</b> &amp;\n  more</h1><h1 class=t>two</h1>",
        ];
        assert_eq!(run(&html, "h1.t", None, false), ["Hello world & more"]);
        assert_eq!(
            run(&html, "h1.t", None, true),
            ["Hello world & more", "two"]
        );
        assert!(run(&html, "h2", None, false).is_empty());
    }

    #[test]
    fn attributes() {
        let html = ["<a href='/a'>x</a><a class=n href=\"/b?x=1&amp;y=2\">y</a><img src=i.png>"];
        assert_eq!(run(&html, "a", Some("href"), false), ["/a"]);
        assert_eq!(run(&html, "a", Some("href"), true), ["/a", "/b?x=1&y=2"]);
        assert_eq!(run(&html, "img", Some("src"), false), ["i.png"]);
        assert!(run(&html, "a", Some("title"), false).is_empty());
    }

    #[test]
    fn nested_matches_with_all() {
        let html = ["<div class=c>outer <div class=c>inner</div> tail</div>"];
        assert_eq!(
            run(&html, "div.c", None, true),
            ["outer inner tail", "inner"]
        );
        assert_eq!(run(&html, "div.c", None, false), ["outer inner tail"]);
    }
}
