//! An error as one line of text with its causes: messages do not repeat their cause (it is
//! their `source()`), so whoever shows an error in one line says the causes here.

/// `error` with its causes, one after the other (`outer: cause: its cause`), as the CLI prints
/// them: a message does not repeat its cause, so the cause is said here.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let said = e.to_string();
        // A transparent wrapper says what its cause says: once is enough.
        if !text.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("picture a.png could not be read")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn causes_follow_the_message_once() {
        let e = Outer(std::io::Error::other("permission denied"));
        assert_eq!(with_causes(&e), "picture a.png could not be read: permission denied");
    }
}
