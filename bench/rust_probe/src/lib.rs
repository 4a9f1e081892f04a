use pyo3::prelude::*;
use regex::Regex;

#[pyclass]
struct Scanner { re: Regex }

#[pymethods]
impl Scanner {
    #[new]
    fn new(pattern: &str) -> PyResult<Self> {
        Regex::new(pattern).map(|re| Scanner { re }).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }
    /// byte offsets of every match start
    fn starts(&self, text: &str) -> Vec<usize> { self.re.find_iter(text).map(|m| m.start()).collect() }
}

// ------------------------------------------------------------------------------------------
// A backtracking matcher that executes Python's own regex parse tree (``re._parser``) in
// ``re``'s order. Node codes are given by census_tree.py's ``encode``.

enum Node {
    Lit(char),
    Str(Vec<char>),
    NotLit(char),
    Set { negate: bool, ascii: [bool; 128], chars: Vec<char>, ranges: Vec<(char, char)>, cats: Vec<u8> },
    Branch(Vec<(Option<char>, Vec<Node>)>),
    Repeat { min: usize, max: usize, greedy: bool, body: Vec<Node> },
    Boundary(bool),
    End,
    Look { behind: usize, ahead: bool, negate: bool, body: Vec<Node> },
}

fn is_word(c: char) -> bool { c == '_' || c.is_alphanumeric() }

fn in_cat(cat: u8, c: char) -> bool {
    match cat {
        0 => is_word(c),
        1 => !is_word(c),
        2 => c.is_whitespace() || ('\x1c'..='\x1f').contains(&c),
        3 => !(c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)),
        4 => c.is_numeric(),
        _ => !c.is_numeric(),
    }
}

fn decode(obj: &PyAny) -> PyResult<Vec<Node>> {
    let mut out = Vec::new();
    for item in obj.iter()? {
        let item = item?;
        let tag: &str = item.get_item(0)?.extract()?;
        out.push(match tag {
            "l" => Node::Lit(item.get_item(1)?.extract()?),
            "n" => Node::NotLit(item.get_item(1)?.extract()?),
            "s" => {
                let negate: bool = item.get_item(1)?.extract()?;
                let chars: Vec<char> = item.get_item(2)?.extract()?;
                let ranges: Vec<(char, char)> = item.get_item(3)?.extract()?;
                let cats: Vec<u8> = item.get_item(4)?.extract()?;
                let mut ascii = [false; 128];
                for (b, slot) in ascii.iter_mut().enumerate() {
                    let c = b as u8 as char;
                    *slot = chars.contains(&c)
                        || ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi)
                        || cats.iter().any(|cat| in_cat(*cat, c));
                }
                Node::Set { negate, ascii, chars, ranges, cats }
            }
            "b" => {
                let mut alts = Vec::new();
                for a in item.get_item(1)?.iter()? {
                    let seq = decode(a?)?;
                    alts.push((first_char(&seq), seq));
                }
                Node::Branch(alts)
            }
            "r" => Node::Repeat {
                min: item.get_item(1)?.extract()?,
                max: item.get_item(2)?.extract()?,
                greedy: item.get_item(3)?.extract()?,
                body: decode(item.get_item(4)?)?,
            },
            "B" => Node::Boundary(item.get_item(1)?.extract()?),
            "e" => Node::End,
            "k" => Node::Look {
                behind: item.get_item(1)?.extract()?,
                ahead: item.get_item(2)?.extract()?,
                negate: item.get_item(3)?.extract()?,
                body: decode(item.get_item(4)?)?,
            },
            other => return Err(pyo3::exceptions::PyValueError::new_err(format!("node {other}"))),
        });
    }
    Ok(merge_literals(out))
}

/// Runs of literals become one string node.
fn merge_literals(seq: Vec<Node>) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::new();
    for node in seq {
        match (out.last_mut(), node) {
            (Some(Node::Str(run)), Node::Lit(c)) => run.push(c),
            (Some(last @ Node::Lit(_)), Node::Lit(c)) => {
                if let Node::Lit(prev) = *last { *last = Node::Str(vec![prev, c]); }
            }
            (_, node) => out.push(node),
        }
    }
    out
}

/// First character a sequence must start with, when it starts with a literal.
fn first_char(seq: &[Node]) -> Option<char> {
    match seq.first() {
        Some(Node::Lit(c)) => Some(*c),
        Some(Node::Str(run)) => run.first().copied(),
        _ => None,
    }
}

fn set_has(negate: bool, ascii: &[bool; 128], chars: &[char], ranges: &[(char, char)], cats: &[u8], c: char) -> bool {
    let hit = if (c as u32) < 128 {
        ascii[c as usize]
    } else {
        chars.contains(&c) || ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) || cats.iter().any(|cat| in_cat(*cat, c))
    };
    hit != negate
}

/// The single character a node matches, for the one-character repeat fast path.
fn one_char(node: &Node, c: char) -> Option<bool> {
    match node {
        Node::Lit(x) => Some(c == *x),
        Node::NotLit(x) => Some(c != *x),
        Node::Set { negate, ascii, chars, ranges, cats } => Some(set_has(*negate, ascii, chars, ranges, cats, c)),
        _ => None,
    }
}

struct Ctx<'a> { s: &'a [char], end: usize }

impl<'a> Ctx<'a> {
    /// Match ``seq`` from node ``i`` at ``pos``; on success call ``k`` with the end; the first
    /// ``k`` that returns true wins (leftmost-first, as ``re`` backtracks).
    fn m(&self, seq: &[Node], i: usize, pos: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        if i == seq.len() { return k(pos); }
        match &seq[i] {
            Node::Lit(c) => pos < self.end && self.s[pos] == *c && self.m(seq, i + 1, pos + 1, k),
            Node::NotLit(c) => pos < self.end && self.s[pos] != *c && self.m(seq, i + 1, pos + 1, k),
            Node::Str(run) => {
                let n = run.len();
                pos + n <= self.end && self.s[pos..pos + n] == run[..] && self.m(seq, i + 1, pos + n, k)
            }
            Node::Set { negate, ascii, chars, ranges, cats } => {
                pos < self.end && set_has(*negate, ascii, chars, ranges, cats, self.s[pos]) && self.m(seq, i + 1, pos + 1, k)
            }
            Node::Branch(alts) => {
                let here = if pos < self.end { Some(self.s[pos]) } else { None };
                alts.iter().any(|(first, alt)| {
                    if let Some(c) = first { if here != Some(*c) { return false; } }
                    self.m(alt, 0, pos, &mut |p| self.m(seq, i + 1, p, k))
                })
            }
            Node::Repeat { min, max, greedy, body } => {
                if body.len() == 1 && one_char(&body[0], ' ').is_some() {
                    // one character per iteration: count the run, then back off (as re's REPEAT_ONE)
                    let node = &body[0];
                    let mut n = 0;
                    let limit = (*max).min(self.end - pos);
                    if *greedy {
                        while n < limit && one_char(node, self.s[pos + n]) == Some(true) { n += 1; }
                        if n < *min { return false; }
                        loop {
                            if self.m(seq, i + 1, pos + n, k) { return true; }
                            if n == *min { return false; }
                            n -= 1;
                        }
                    } else {
                        while n < *min {
                            if n >= limit || one_char(node, self.s[pos + n]) != Some(true) { return false; }
                            n += 1;
                        }
                        loop {
                            if self.m(seq, i + 1, pos + n, k) { return true; }
                            if n >= limit || one_char(node, self.s[pos + n]) != Some(true) { return false; }
                            n += 1;
                        }
                    }
                }
                self.rep(body, *min, *max, *greedy, 0, pos, &mut |p| self.m(seq, i + 1, p, k))
            }
            Node::Boundary(yes) => {
                let before = pos > 0 && is_word(self.s[pos - 1]);
                let after = pos < self.end && is_word(self.s[pos]);
                self.end > 0 && ((before != after) == *yes) && self.m(seq, i + 1, pos, k)
            }
            Node::End => (pos == self.end || (pos + 1 == self.end && self.s[pos] == '\n')) && self.m(seq, i + 1, pos, k),
            Node::Look { behind, ahead, negate, body } => {
                let found = if *ahead {
                    self.m(body, 0, pos, &mut |_| true)
                } else {
                    pos >= *behind && self.m(body, 0, pos - behind, &mut |p| p == pos)
                };
                found != *negate && self.m(seq, i + 1, pos, k)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn rep(&self, body: &[Node], min: usize, max: usize, greedy: bool, count: usize, pos: usize,
           k: &mut dyn FnMut(usize) -> bool) -> bool {
        let more = |this: &Self, k: &mut dyn FnMut(usize) -> bool| {
            count < max && this.m(body, 0, pos, &mut |p| {
                if p == pos && count >= min { return false; } // an empty iteration ends the loop
                this.rep(body, min, max, greedy, count + 1, p, k)
            })
        };
        if greedy {
            more(self, k) || (count >= min && k(pos))
        } else {
            (count >= min && k(pos)) || more(self, k)
        }
    }
}

#[pyclass]
struct Text { s: Vec<char>, raw: String, bytes_at: Vec<usize> }

#[pymethods]
impl Text {
    #[new]
    fn new(text: &str) -> Self {
        let s: Vec<char> = text.chars().collect();
        let mut bytes_at = Vec::with_capacity(s.len() + 1);
        let mut b = 0;
        for c in &s { bytes_at.push(b); b += c.len_utf8(); }
        bytes_at.push(b);
        Text { s, raw: text.to_string(), bytes_at }
    }
}

#[pyclass]
struct Tree { alts: Vec<(Option<char>, Vec<Node>, Option<Regex>)> }

#[pymethods]
impl Tree {
    /// ``alternatives``: one encoded tree per alternative of the search, in order;
    /// ``regexes``: for each, the same alternative in the regex crate's syntax, anchored with
    /// ``^``, or ``None`` where it needs what that crate lacks (lookaround, ``$``).
    #[new]
    fn new(alternatives: &PyAny, regexes: Vec<Option<String>>) -> PyResult<Self> {
        let mut alts = Vec::new();
        for (a, rx) in alternatives.iter()?.zip(regexes) {
            let seq = decode(a?)?;
            let compiled = match rx {
                Some(p) => Some(Regex::new(&p).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?),
                None => None,
            };
            alts.push((first_char(&seq), seq, compiled));
        }
        Ok(Tree { alts })
    }

    /// The same arguments as ``find_at``, not searched: what crossing into Rust costs.
    fn convert_only(&self, _text: &Text, candidates: Vec<usize>, tries: Vec<Option<Vec<usize>>>) -> usize {
        candidates.len() + tries.len()
    }

    /// ``finditer`` restricted to ``candidates`` (sorted code-point positions), trying at each
    /// the alternatives ``tries`` names there (``None``: all), in order: the non-empty
    /// matches that start at a candidate and not inside an earlier match.
    fn find_at(&self, text: &Text, candidates: Vec<usize>, tries: Vec<Option<Vec<usize>>>) -> Vec<(usize, usize)> {
        let ctx = Ctx { s: &text.s, end: text.s.len() };
        let mut out = Vec::new();
        let mut last = 0;
        for (p, which) in candidates.into_iter().zip(tries) {
            if p < last || p > ctx.end { continue; }
            let mut hit = None;
            let mut attempt = |a: usize| -> bool {
                let (first, seq, rx) = &self.alts[a];
                if let Some(c) = first { if p >= ctx.end || ctx.s[p] != *c { return false; } }
                if let Some(rx) = rx {
                    let start = text.bytes_at[p];
                    return match rx.find(&text.raw[start..]) {
                        Some(m) => {
                            let end_byte = start + m.end();
                            hit = Some(text.bytes_at.partition_point(|b| *b < end_byte));
                            true
                        }
                        None => false,
                    };
                }
                ctx.m(seq, 0, p, &mut |e| { hit = Some(e); true })
            };
            match which {
                Some(list) => { for a in list { if attempt(a) { break; } } }
                None => { for a in 0..self.alts.len() { if attempt(a) { break; } } }
            }
            if let Some(e) = hit {
                last = e;
                if e > p { out.push((p, e)); }
            }
        }
        out
    }
}

#[pymodule]
fn rprobe(_py: Python, m: &PyModule) -> PyResult<()> {
    m.add_class::<Scanner>()?;
    m.add_class::<Tree>()?;
    m.add_class::<Text>()?;
    Ok(())
}
