//! CloudWatch Logs filter patterns: terms (`ERROR`, `"a phrase"`, `?either
//! ?or`, `-not`), and JSON patterns (`{ $.level = "ERROR" && $.count > 3 }`)
//! with `=`, `!=`, `<`, `<=`, `>`, `>=`, `IS NULL`, `IS TRUE`, `IS FALSE`,
//! `NOT EXISTS`, `*` wildcards in strings, `&&`, `||` and parentheses.

/// A filter pattern that cannot be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter pattern '{pattern}': {why}")]
pub struct PatternError {
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it.
    pub why: String,
}

type Result<T, E = PatternError> = std::result::Result<T, E>;

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Matches every line.
    All,
    /// Terms: every plain term, at least one `?` term (when any), no `-` term.
    Terms {
        /// Each must appear.
        all: Vec<String>,
        /// One must appear.
        any: Vec<String>,
        /// None may appear.
        none: Vec<String>,
    },
    /// A condition on a line that is a JSON object.
    Json(Expr),
}

/// A JSON pattern's condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both hold.
    And(Box<Expr>, Box<Expr>),
    /// Either holds.
    Or(Box<Expr>, Box<Expr>),
    /// A member compared with a value.
    Compare {
        /// The member's path (`$.a.b[0]`), as keys and indexes.
        path: Vec<Step>,
        /// How it is compared.
        operator: Operator,
        /// With what.
        value: Literal,
    },
}

/// One step of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object's member.
    Key(String),
    /// An array's element.
    Index(usize),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `IS NULL`
    IsNull,
    /// `NOT EXISTS`
    NotExists,
    /// `IS TRUE`
    IsTrue,
    /// `IS FALSE`
    IsFalse,
}

/// A value compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Text, where `*` matches any run of characters.
    Text(String),
    /// A number.
    Number(f64),
    /// Nothing (for the unary operators).
    None,
}

fn invalid(pattern: &str, why: &str) -> PatternError {
    PatternError {
        pattern: pattern.to_owned(),
        why: why.to_owned(),
    }
}

impl Pattern {
    /// Parses `text`.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed == "\"\"" {
            return Ok(Self::All);
        }
        if let Some(inner) = trimmed.strip_prefix('{') {
            let inner = inner
                .strip_suffix('}')
                .ok_or_else(|| invalid(text, "a JSON pattern ends with '}'"))?;
            let mut parser = Parser {
                text,
                tokens: tokenize(text, inner)?,
                at: 0,
            };
            let expr = parser.or()?;
            if parser.at != parser.tokens.len() {
                return Err(invalid(text, "unexpected text after the condition"));
            }
            return Ok(Self::Json(expr));
        }
        if trimmed.starts_with('[') {
            return Err(invalid(text, "space-delimited patterns are not supported"));
        }
        let (mut all, mut any, mut none) = (Vec::new(), Vec::new(), Vec::new());
        for term in terms(trimmed) {
            if let Some(term) = term.strip_prefix('?') {
                any.push(unquote(term));
            } else if let Some(term) = term.strip_prefix('-').filter(|rest| !rest.is_empty()) {
                none.push(unquote(term));
            } else {
                all.push(unquote(&term));
            }
        }
        Ok(Self::Terms { all, any, none })
    }

    /// Whether `message` matches.
    #[must_use]
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Self::All => true,
            Self::Terms { all, any, none } => {
                all.iter().all(|term| message.contains(term.as_str()))
                    && (any.is_empty() || any.iter().any(|term| message.contains(term.as_str())))
                    && !none.iter().any(|term| message.contains(term.as_str()))
            }
            Self::Json(expr) => serde_json::from_str::<serde_json::Value>(message)
                .ok()
                .filter(serde_json::Value::is_object)
                .is_some_and(|value| expr.holds(&value)),
        }
    }
}

/// The terms of a term pattern: words, or quoted phrases.
fn terms(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for character in text.chars() {
        match character {
            '"' => {
                quoted = !quoted;
                current.push(character);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    terms.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        terms.push(current);
    }
    terms
}

fn unquote(term: &str) -> String {
    term.strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(term)
        .to_owned()
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Selector(Vec<Step>),
    Operator(Operator),
    Text(String),
    Number(f64),
    And,
    Or,
    Open,
    Close,
}

fn selector(pattern: &str, text: &str) -> Result<Vec<Step>> {
    let rest = text
        .strip_prefix('$')
        .ok_or_else(|| invalid(pattern, "a selector starts with '$'"))?;
    let mut steps = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(character) = chars.next() {
        match character {
            '.' => {
                let mut key = String::new();
                while let Some(&next) = chars.peek() {
                    if next == '.' || next == '[' {
                        break;
                    }
                    key.push(next);
                    chars.next();
                }
                steps.push(Step::Key(key));
            }
            '[' => {
                let mut index = String::new();
                for next in chars.by_ref() {
                    if next == ']' {
                        break;
                    }
                    index.push(next);
                }
                let index = index
                    .parse()
                    .map_err(|_| invalid(pattern, "an array index is a whole number"))?;
                steps.push(Step::Index(index));
            }
            _ => {
                return Err(invalid(
                    pattern,
                    "a selector is $.key, $.key.key or $.key[0]",
                ));
            }
        }
    }
    Ok(steps)
}

fn tokenize(pattern: &str, text: &str) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&character) = chars.peek() {
        match character {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '&' | '|' => {
                chars.next();
                if chars.next() != Some(character) {
                    return Err(invalid(pattern, "use && and ||"));
                }
                tokens.push(if character == '&' {
                    Token::And
                } else {
                    Token::Or
                });
            }
            '=' => {
                chars.next();
                tokens.push(Token::Operator(Operator::Equal));
            }
            '!' | '<' | '>' => {
                chars.next();
                let equal = chars.peek() == Some(&'=');
                if equal {
                    chars.next();
                }
                let operator = match (character, equal) {
                    ('!', true) => Operator::NotEqual,
                    ('<', false) => Operator::Less,
                    ('<', true) => Operator::LessOrEqual,
                    ('>', false) => Operator::Greater,
                    ('>', true) => Operator::GreaterOrEqual,
                    _ => return Err(invalid(pattern, "'!' goes with '='")),
                };
                tokens.push(Token::Operator(operator));
            }
            '"' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some('\\') => value.extend(chars.next()),
                        Some('"') => break,
                        Some(next) => value.push(next),
                        None => return Err(invalid(pattern, "a quoted value is not closed")),
                    }
                }
                tokens.push(Token::Text(value));
            }
            _ => {
                let mut word = String::new();
                while let Some(&next) = chars.peek() {
                    if next.is_whitespace() || "()=!<>&|\"".contains(next) {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                tokens.push(word_token(pattern, &word, &mut chars)?);
            }
        }
    }
    Ok(tokens)
}

fn word_token(
    pattern: &str,
    word: &str,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<Token> {
    if word.starts_with('$') {
        return selector(pattern, word).map(Token::Selector);
    }
    let mut next_word = || {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut following = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == ')' {
                break;
            }
            following.push(c);
            chars.next();
        }
        following.to_ascii_uppercase()
    };
    match word.to_ascii_uppercase().as_str() {
        "IS" => match next_word().as_str() {
            "NULL" => Ok(Token::Operator(Operator::IsNull)),
            "TRUE" => Ok(Token::Operator(Operator::IsTrue)),
            "FALSE" => Ok(Token::Operator(Operator::IsFalse)),
            _ => Err(invalid(pattern, "IS goes with NULL, TRUE or FALSE")),
        },
        "NOT" => match next_word().as_str() {
            "EXISTS" => Ok(Token::Operator(Operator::NotExists)),
            _ => Err(invalid(pattern, "NOT goes with EXISTS")),
        },
        _ => Ok(word
            .parse::<f64>()
            .map_or_else(|_| Token::Text(word.to_owned()), Token::Number)),
    }
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    at: usize,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.primary()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.primary()?));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                if self.next() != Some(Token::Close) {
                    return Err(invalid(self.text, "a '(' is not closed"));
                }
                Ok(inner)
            }
            Some(Token::Selector(path)) => {
                let Some(Token::Operator(operator)) = self.next() else {
                    return Err(invalid(self.text, "a selector is followed by an operator"));
                };
                let value = match operator {
                    Operator::IsNull
                    | Operator::NotExists
                    | Operator::IsTrue
                    | Operator::IsFalse => Literal::None,
                    _ => match self.next() {
                        Some(Token::Text(text)) => Literal::Text(text),
                        Some(Token::Number(number)) => Literal::Number(number),
                        _ => return Err(invalid(self.text, "an operator is followed by a value")),
                    },
                };
                Ok(Expr::Compare {
                    path,
                    operator,
                    value,
                })
            }
            _ => Err(invalid(self.text, "expected a condition ($.key = value)")),
        }
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (index, part) in parts.iter().enumerate() {
        if index == 0 {
            match rest.strip_prefix(part) {
                Some(after) => rest = after,
                None => return false,
            }
        } else if index == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
                None => return false,
            }
        }
    }
    true
}

impl Expr {
    fn holds(&self, value: &serde_json::Value) -> bool {
        match self {
            Self::And(left, right) => left.holds(value) && right.holds(value),
            Self::Or(left, right) => left.holds(value) || right.holds(value),
            Self::Compare {
                path,
                operator,
                value: literal,
            } => {
                let member = path.iter().try_fold(value, |current, step| match step {
                    Step::Key(key) => current.get(key),
                    Step::Index(index) => current.get(index),
                });
                compare(member, *operator, literal)
            }
        }
    }
}

fn compare(member: Option<&serde_json::Value>, operator: Operator, literal: &Literal) -> bool {
    use serde_json::Value;
    match operator {
        Operator::NotExists => return member.is_none(),
        Operator::IsNull => return member.is_some_and(Value::is_null),
        Operator::IsTrue => return member == Some(&Value::Bool(true)),
        Operator::IsFalse => return member == Some(&Value::Bool(false)),
        _ => {}
    }
    let Some(member) = member else {
        return false;
    };
    match (literal, member) {
        (Literal::Number(number), Value::Number(actual)) => {
            let actual = actual.as_f64().unwrap_or(f64::NAN);
            match operator {
                Operator::Equal => (actual - number).abs() < f64::EPSILON,
                Operator::NotEqual => (actual - number).abs() >= f64::EPSILON,
                Operator::Less => actual < *number,
                Operator::LessOrEqual => actual <= *number,
                Operator::Greater => actual > *number,
                Operator::GreaterOrEqual => actual >= *number,
                _ => false,
            }
        }
        (Literal::Text(text), actual) => {
            let actual = match actual {
                Value::String(string) => string.clone(),
                other => other.to_string(),
            };
            match operator {
                Operator::Equal => wildcard(text, &actual),
                Operator::NotEqual => !wildcard(text, &actual),
                _ => false,
            }
        }
        (Literal::Number(number), Value::String(actual)) => match operator {
            Operator::Equal => actual
                .parse::<f64>()
                .is_ok_and(|n| (n - number).abs() < f64::EPSILON),
            Operator::NotEqual => actual
                .parse::<f64>()
                .is_ok_and(|n| (n - number).abs() >= f64::EPSILON),
            _ => false,
        },
        _ => operator == Operator::NotEqual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, message: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(message)
    }

    #[test]
    fn terms_phrases_alternatives_and_exclusions() {
        assert!(matches("", "anything"));
        assert!(matches("ERROR", "an ERROR here"));
        assert!(!matches("ERROR", "an error here"));
        assert!(matches("ERROR timeout", "ERROR: a timeout"));
        assert!(!matches("ERROR timeout", "ERROR: a crash"));
        assert!(matches("\"a phrase\"", "with a phrase inside"));
        assert!(matches("?ERROR ?WARN", "a WARN line"));
        assert!(!matches("?ERROR ?WARN", "an INFO line"));
        assert!(!matches("ERROR -expected", "ERROR expected"));
    }

    #[test]
    fn json_patterns_compare_members() {
        let line = r#"{"executionArn": "arn:x", "level": "INFO", "count": 4, "ok": true, "gone": null, "tags": ["a", "b"], "nested": {"k": "v"}}"#;
        assert!(matches(r#"{ $.executionArn = "arn:x" }"#, line));
        assert!(matches(
            r#"{ ($.durableExecutionArn = "arn:x") || ($.executionArn = "arn:x") }"#,
            line
        ));
        assert!(!matches(r#"{ $.executionArn = "arn:y" }"#, line));
        assert!(matches(r#"{ $.level = "IN*" && $.count > 3 }"#, line));
        assert!(!matches(r#"{ $.level = "IN*" && $.count > 4 }"#, line));
        assert!(matches("{ $.count >= 4 && $.count != 5 }", line));
        assert!(matches("{ $.ok IS TRUE }", line));
        assert!(matches("{ $.gone IS NULL }", line));
        assert!(matches("{ $.missing NOT EXISTS }", line));
        assert!(matches(r#"{ $.tags[1] = "b" }"#, line));
        assert!(matches("{ $.nested.k = v }", line));
        assert!(!matches(r#"{ $.level = "INFO" }"#, "not json"));
    }

    #[test]
    fn bad_patterns_are_errors_naming_the_pattern() {
        for bad in [
            "{ $.a = ",
            "{ level = 1 }",
            "{ $.a = 1",
            "[ip, user]",
            "{ $.a & $.b }",
        ] {
            let error = Pattern::parse(bad).unwrap_err();
            assert!(error.to_string().contains(bad), "{error}");
        }
    }
}
