//! Temporary stand-in until the streaming title scanner lands (same API).
#![allow(missing_docs)]
pub struct TitleScanner {
    buf: Vec<u8>,
}
impl TitleScanner {
    pub fn new(_header_charset: Option<&str>) -> Self {
        TitleScanner { buf: Vec::new() }
    }
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        self.buf.extend_from_slice(chunk);
        false
    }
    pub fn finish(self) -> Option<String> {
        let s = String::from_utf8_lossy(&self.buf);
        let a = s.find("<title>")? + 7;
        let b = s[a..].find("</title>")? + a;
        Some(s[a..b].trim().to_owned())
    }
}
pub fn is_html(content_type: Option<&str>, _first: &[u8]) -> bool {
    content_type.is_some_and(|c| c.contains("html"))
}
pub fn charset_param(_ct: &str) -> Option<&str> {
    None
}
