//! Matcher tests: each selector feature, nesting and implicit end tags, the tokenizer states,
//! and independence from how the body is split (every document is also fed in every split into
//! two pieces and byte by byte).

use super::*;

/// Runs `specs` (`selector` or `selector@attr`) over `doc` in one piece.
fn run_whole(doc: &[u8], specs: &[&str], all: bool, pieces: &[&[u8]]) -> Vec<Vec<String>> {
    let parsed: Vec<(Selector, Option<String>)> = specs
        .iter()
        .map(|s| match s.rsplit_once('@') {
            Some((sel, attr)) => (Selector::parse(sel).unwrap(), Some(attr.to_owned())),
            None => (Selector::parse(s).unwrap(), None),
        })
        .collect();
    let refs: Vec<_> = parsed.iter().map(|(s, a)| (s, a)).collect();
    let mut r = CssRun::new(&refs, all);
    if pieces.is_empty() {
        r.feed(doc);
    } else {
        for p in pieces {
            r.feed(p);
        }
    }
    r.finish()
}

/// The values of `specs` on `doc`, checked to be the same however `doc` is split.
pub(super) fn values(doc: &str, specs: &[&str], all: bool) -> Vec<Vec<String>> {
    let doc = doc.as_bytes();
    let whole = run_whole(doc, specs, all, &[]);
    // Every split of test-sized documents; every 997th of the long ones.
    let step = if doc.len() <= 4096 { 1 } else { 997 };
    for at in (0..=doc.len()).step_by(step) {
        let (a, b) = doc.split_at(at);
        assert_eq!(
            run_whole(doc, specs, all, &[a, b]),
            whole,
            "split at {at} of {:?}",
            String::from_utf8_lossy(doc)
        );
    }
    let bytes: Vec<&[u8]> = doc.chunks(1).collect();
    assert_eq!(run_whole(doc, specs, all, &bytes), whole, "byte by byte");
    whole
}

/// The first value of one selector, if any.
fn first(doc: &str, spec: &str) -> Option<String> {
    values(doc, &[spec], false).remove(0).into_iter().next()
}

/// Every value of one selector.
fn every(doc: &str, spec: &str) -> Vec<String> {
    values(doc, &[spec], true).remove(0)
}

#[test]
fn text_of_the_first_match_with_nested_tags() {
    let html = "<html><h1 class=t>Hello <b>wo\
                rld</b> &amp;\n  more</h1><h1 class=t>two</h1>";
    assert_eq!(first(html, "h1.t").as_deref(), Some("Hello world & more"));
    assert_eq!(every(html, "h1.t"), ["Hello world & more", "two"]);
    assert_eq!(first(html, "h2"), None);
    assert_eq!(first(html, "H1").as_deref(), Some("Hello world & more"));
}

#[test]
fn attributes_and_at_attr() {
    let html = "<a href='/a'>x</a><a class=n href=\"/b?x=1&amp;y=2\">y</a><img src=i.png>";
    assert_eq!(first(html, "a@href").as_deref(), Some("/a"));
    assert_eq!(every(html, "a@href"), ["/a", "/b?x=1&y=2"]);
    assert_eq!(first(html, "img@src").as_deref(), Some("i.png"));
    assert_eq!(first(html, "a@title"), None);
    // A void element matches with empty text.
    assert_eq!(every(html, "img"), [""]);
    // The first match without the attribute does not stop the search.
    let html = "<a>no</a><a HREF=x>yes</a>";
    assert_eq!(first(html, "a@href").as_deref(), Some("x"));
}

#[test]
fn nested_matches_with_all() {
    let html = "<div class=c>outer <div class=c>inner</div> tail</div>";
    assert_eq!(every(html, "div.c"), ["outer inner tail", "inner"]);
    assert_eq!(first(html, "div.c").as_deref(), Some("outer inner tail"));
}

#[test]
fn simple_selectors() {
    let html = "<div id=main class='a  b\tc'><p lang=en-US data-x=\"Hello World\">p1</p>\
                <span id=Main>s</span></div>";
    // Texts are joined as they are in the document (no space between `</p><span>`).
    assert_eq!(first(html, "#main").as_deref(), Some("p1s"));
    assert_eq!(first(html, "#Main").as_deref(), Some("s"));
    assert_eq!(first(html, ".b").as_deref(), Some("p1s"));
    assert_eq!(first(html, ".a.c#main").as_deref(), Some("p1s"));
    assert_eq!(first(html, ".B"), None);
    assert_eq!(first(html, "*").as_deref(), Some("p1s"));
    assert_eq!(first(html, "[lang]").as_deref(), Some("p1"));
    assert_eq!(first(html, "[LANG|=en]").as_deref(), Some("p1"));
    assert_eq!(first(html, "[lang|=en-US]").as_deref(), Some("p1"));
    assert_eq!(first(html, "[lang|=e]"), None);
    assert_eq!(first(html, "[lang=en-us]"), None);
    assert_eq!(first(html, "[lang=en-us i]").as_deref(), Some("p1"));
    assert_eq!(first(html, "[data-x~=World]").as_deref(), Some("p1"));
    assert_eq!(first(html, "[data-x~='o W']"), None);
    assert_eq!(first(html, "[data-x^=Hell]").as_deref(), Some("p1"));
    assert_eq!(first(html, "[data-x$=\"World\"]").as_deref(), Some("p1"));
    assert_eq!(first(html, "[data-x*='lo Wo']").as_deref(), Some("p1"));
    assert_eq!(first(html, "[data-x^='']"), None);
    assert_eq!(first(html, "[data-x*=xyz]"), None);
    assert_eq!(first(html, "p:not([lang])"), None);
    assert_eq!(first(html, ":not(div):not(p)").as_deref(), Some("s"));
    // Attribute values are compared decoded.
    assert_eq!(
        first("<a title='a&amp;b'>x</a>", "[title='a&b']").as_deref(),
        Some("x")
    );
}

#[test]
fn combinators_and_lists() {
    let html = "<div class=a><section><p>deep</p></section><p>child</p></div><p>outside</p>";
    assert_eq!(first(html, ".a p").as_deref(), Some("deep"));
    assert_eq!(first(html, ".a > p").as_deref(), Some("child"));
    assert_eq!(first(html, "div > section > p").as_deref(), Some("deep"));
    assert_eq!(first(html, "div > p > p"), None);
    assert_eq!(every(html, "div p"), ["deep", "child"]);
    assert_eq!(every(html, "p"), ["deep", "child", "outside"]);
    assert_eq!(every(html, "section p, div > p"), ["deep", "child"]);
    // The first of the list's matches in document order, whichever alternative it is.
    assert_eq!(
        first(html, "body, div > p, section").as_deref(),
        Some("deep")
    );
    // Backtracking: the `a` ancestor that works is not the nearest one.
    let html = "<ul class=x><li><ul><li><b>t</b></li></ul></li></ul>";
    assert_eq!(first(html, ".x > li b").as_deref(), Some("t"));
    assert_eq!(first(html, ".x > li > b"), None);
}

#[test]
fn nth_and_first_pseudo_classes() {
    let html = "<ul><li>1</li><li>2</li><b>x</b><li>3</li><li>4</li><li>5</li></ul>";
    assert_eq!(first(html, "li:first-child").as_deref(), Some("1"));
    // Positions count every element child: the `<b>` is third.
    assert_eq!(every(html, "li:nth-child(odd)"), ["1", "4"]);
    assert_eq!(every(html, "li:nth-child(even)"), ["2", "3", "5"]);
    assert_eq!(every(html, ":nth-child(3)"), ["x"]);
    assert_eq!(every(html, "li:nth-child(-n+3)"), ["1", "2"]);
    assert_eq!(every(html, "li:nth-of-type(3)"), ["3"]);
    assert_eq!(every(html, "li:nth-of-type(2n+1)"), ["1", "3", "5"]);
    assert_eq!(every(html, "b:first-of-type"), ["x"]);
    assert_eq!(every(html, "li:not(:first-child)"), ["2", "3", "4", "5"]);
    // Counts restart per parent.
    let html = "<div><p>a</p><p>b</p></div><div><p>c</p></div>";
    assert_eq!(every(html, "p:first-of-type"), ["a", "c"]);
    assert_eq!(every(html, "div:nth-child(2) p"), ["c"]);
}

#[test]
fn nesting_and_implicit_end_tags() {
    // An end tag closes up to its element; a stray end tag is ignored.
    let html = "<div><span>a</div><p>b</span></p>";
    assert_eq!(first(html, "div").as_deref(), Some("a"));
    assert_eq!(first(html, "div p"), None);
    // `<p>` is closed by a block start tag and by `<p>`.
    let html = "<p>one<div>two</div><p>three<p>four";
    assert_eq!(every(html, "p"), ["one", "three", "four"]);
    assert_eq!(first(html, "p div"), None);
    // …but not by an inline one, nor across a button.
    assert_eq!(
        first("<p>a<span>b</span>c</p>", "p").as_deref(),
        Some("abc")
    );
    assert_eq!(every("<p><button><p>x</button>y", "p"), ["xy", "x"]);
    assert_eq!(every("<ul><li>a<li>b</ul><li>c", "ul > li"), ["a", "b"]);
    assert_eq!(
        every("<ol><li>a<ul><li>b</ul><li>c", "ol > li"),
        ["ab", "c"]
    );
    assert_eq!(every("<dl><dt>a<dd>b<dt>c</dl>", "dl > *"), ["a", "b", "c"]);
    assert_eq!(
        every("<table><tr><td>a<td>b<tr><th>c</table>", "tr"),
        ["ab", "c"]
    );
    assert_eq!(
        every("<table><tr><td>a<td>b<tr><th>c</table>", "tr > *"),
        ["a", "b", "c"]
    );
    assert_eq!(
        every("<select><option>a<option>b</select>", "option"),
        ["a", "b"]
    );
    // Void elements never open; `<x/>` opens in HTML, not in SVG.
    assert_eq!(first("<br><b>x</b>", "br b"), None);
    assert_eq!(first("<div/>x</div>", "div").as_deref(), Some("x"));
    assert_eq!(first("<svg><g/><t>x</t></svg>", "g t"), None);
    assert_eq!(
        first("<svg><g/><t>x</t></svg>", "svg > t").as_deref(),
        Some("x")
    );
    // The document ending closes everything.
    assert_eq!(first("<h1>open", "h1").as_deref(), Some("open"));
}

#[test]
fn tokenizer_states() {
    // Raw text is text, and fake tags in it are not tags.
    let html = "<script>if (a<b) x='<h1>no</h1>';</script><h1>yes</h1>";
    assert_eq!(first(html, "h1").as_deref(), Some("yes"));
    assert_eq!(
        first(html, "script").as_deref(),
        Some("if (a<b) x='<h1>no</h1>';")
    );
    let html = "<STYLE>p{}</styles></Style ><textarea><b>t</b></textarea><b>real</b>";
    assert_eq!(first(html, "b").as_deref(), Some("real"));
    assert_eq!(first(html, "textarea").as_deref(), Some("<b>t</b>"));
    assert_eq!(
        first("<title>a &lt; b</title>", "title").as_deref(),
        Some("a < b")
    );
    assert_eq!(
        first("<plaintext><h1>x</h1>", "plaintext").as_deref(),
        Some("<h1>x</h1>")
    );
    // Comments: not markup, not text.
    let html = "<div>a<!-- <h1>no</h1> -->b<!---->c<!-->d<!--->e<!-- x --!>f</div><h1>y</h1>";
    assert_eq!(first(html, "div").as_deref(), Some("abcdef"));
    assert_eq!(first(html, "h1").as_deref(), Some("y"));
    // Doctype, processing instructions, bogus end tags.
    let html = "<!DOCTYPE html><?xml x?></ weird><h1>ok</h1></>";
    assert_eq!(first(html, "h1").as_deref(), Some("ok"));
    // `>` inside quotes does not end a tag; in an unquoted value a quote is just a byte.
    let html = "<a title='x>y' href=\"/h\">t</a><a x=y\"z href=/2>u</a>";
    assert_eq!(every(html, "a@href"), ["/h", "/2"]);
    assert_eq!(every(html, "a"), ["t", "u"]);
    assert_eq!(first(html, "a@title").as_deref(), Some("x>y"));
    // Tag names end only at whitespace, `/` or `>`.
    assert_eq!(
        first("<h1x>no</h1x><h1/>yes</h1>", "h1").as_deref(),
        Some("yes")
    );
    // `<` not starting markup is text.
    assert_eq!(
        first("<p>a < b <3 c</p>", "p").as_deref(),
        Some("a < b <3 c")
    );
    // CDATA is text in SVG, a bogus comment in HTML.
    assert_eq!(
        first("<svg><text><![CDATA[a<b>]]></text></svg>", "text").as_deref(),
        Some("a<b>")
    );
    assert_eq!(first("<p><![CDATA[x]]>y</p>", "p").as_deref(), Some("y"));
    // An unterminated tag at the end is dropped; `<` at the end is text.
    assert_eq!(first("<p>a<", "p").as_deref(), Some("a<"));
    assert_eq!(first("<p>a<b c='", "p").as_deref(), Some("a"));
}

#[test]
fn entities_and_whitespace() {
    let html = "<p>&lt;a&gt; &amp;amp; &eacute;&#233;&#xE9; &nbsp;x\n\n y</p>";
    // U+00A0 is whitespace to `collapse` too.
    assert_eq!(first(html, "p").as_deref(), Some("<a> &amp; ééé x y"));
    assert_eq!(
        first("<a href='?a=1&amp;b=2&lt'>", "a@href").as_deref(),
        Some("?a=1&b=2<")
    );
}

#[test]
fn several_extractors_and_early_stop() {
    let html = "<h1>t</h1><a href=/x>l</a><p>p</p>";
    assert_eq!(
        values(html, &["h1", "a@href", "p.none", "p"], false),
        [vec!["t"], vec!["/x"], vec![], vec!["p"]]
    );
    // Once every extractor is done, the rest is not even tokenized.
    let sel = Selector::parse("h1").unwrap();
    let mut r = CssRun::new(&[(&sel, &None)], false);
    r.feed(b"<h1>a</h1>");
    assert_eq!(r.state, State::Done);
    r.feed(b"<h1>b</h1>");
    assert_eq!(r.finish(), [vec!["a"]]);
}

#[test]
fn bounds() {
    // Values are capped, at a character boundary.
    let long = format!("<p>{}</p>", "é".repeat(40_000));
    let v = first(&long[..], "p");
    let v = v.unwrap();
    assert!(
        v.len() <= MAX_VALUE && v.len() > MAX_VALUE - 4,
        "{}",
        v.len()
    );
    assert!(v.chars().all(|c| c == 'é'));
    // A tag longer than the cap is skipped, in one piece or many.
    let huge = format!(
        "<h1 title='{}'>no</h1><h1>yes</h1>",
        "x".repeat(TAG_CAP + 10)
    );
    let sel = Selector::parse("h1").unwrap();
    for step in [huge.len(), 1000, 7] {
        let mut r = CssRun::new(&[(&sel, &None)], false);
        for piece in huge.as_bytes().chunks(step) {
            r.feed(piece);
        }
        assert!(r.carry.len() <= TAG_CAP + STEP_SLACK);
        assert_eq!(r.finish(), [vec!["yes"]], "step {step}");
    }
    // The stack stops growing at its limit, and end tags still pair up.
    let deep = format!(
        "{}<b>x</b>{}<i>y</i>",
        "<div>".repeat(600),
        "</div>".repeat(600)
    );
    assert_eq!(first(&deep, "b"), None);
    assert_eq!(first(&deep, "body i, :first-child > i"), None);
    assert_eq!(first(&deep, "i").as_deref(), Some("y"));
    // Text still reaches open matches from elements past the limit.
    assert_eq!(first(&deep, "div > div > div").as_deref(), Some("x"));
}

/// How far past [`TAG_CAP`] the carry-over may grow before a long tag is dropped.
const STEP_SLACK: usize = 1000;

#[test]
fn collapse_matches_split_whitespace() {
    for s in [
        "",
        "  ",
        "a",
        " a  b\t\nc \u{b}d\r\u{c} ",
        "é  \u{a0}x\u{2003}y ",
        "x\u{85}y",
        "a b",
        "a  b",
        "a\tb",
        " a",
        "a ",
    ] {
        let want = s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(collapse(s), want, "{s:?}");
        // The fast path never skips a string that needs collapsing.
        assert_eq!(is_collapsed(s), s == want, "{s:?}");
    }
}
