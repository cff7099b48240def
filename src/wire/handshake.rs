//! The opening handshake (RFC 6455 §1.3, §4.1, §4.2, §4.4): building the client's upgrade
//! request, parsing HTTP heads, judging the server's response against what the client offered
//! (§4.1), judging a client's request as a server (§4.2.1), and building the server's answers
//! (§4.2.2, §4.4).
//!
//! Everything here is a pure function of its arguments: the `Sec-WebSocket-Key` nonce is always
//! passed in, never drawn. Builders write field values verbatim, so a test can send a
//! deliberately broken head; validators report what they find in lower-case, specific words.
//! The work is split by concern into private submodules whose items are all re-exported here:
//! HTTP head parsing (`head`), comma lists and extension offers (`lists`), the client side
//! (`client`: request building, §4.1 response validation) and the server side (`server`: §4.2.1
//! request validation, §4.2.2 and §4.4 responses).

use sha1::{Digest, Sha1};

mod client;
mod head;
mod lists;
mod server;

pub use client::{ClientRequest, Negotiated, Offer, validate_h2_response, validate_response};
pub use head::{
    HeadError, MAX_HEADERS, Parse, RequestHead, ResponseHead, parse_request, parse_response,
};
pub use lists::{ExtensionItem, ExtensionParam, extension_items, parse_extensions, split_list};
pub use server::{
    Rejection, ValidRequest, build_error_response, build_response_101, reason_phrase,
    validate_h2_request, validate_request,
};

/// The GUID a server appends to the client's key to prove it read the handshake (§1.3, §4.2.2).
pub const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version RFC 6455 defines (§4.1 step 9, §11.6).
pub const VERSION: &str = "13";

/// Sec-WebSocket-Accept for a key (§1.3): base64(sha1(key + GUID)).
///
/// The key is used as a string, not base64-decoded, after removing leading and trailing
/// whitespace (SP, HTAB): §1.3 takes the value "minus any leading and trailing whitespace", §4.1
/// step 4 says the same for the client's check, and §4.2.2 uses the header value, which by HTTP
/// rules excludes surrounding whitespace.
pub fn accept_for_key(key: &str) -> String {
    use base64::Engine as _;
    let mut sha = Sha1::new();
    sha.update(lists::trim_ows(key).as_bytes());
    sha.update(WS_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_1_3_accept_example() {
        assert_eq!(
            accept_for_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn rfc6455_4_1_accept_ignores_surrounding_whitespace() {
        for key in [
            " dGhlIHNhbXBsZSBub25jZQ==",
            "dGhlIHNhbXBsZSBub25jZQ==\t",
            " \t dGhlIHNhbXBsZSBub25jZQ==  ",
        ] {
            assert_eq!(
                accept_for_key(key),
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                "{key:?}"
            );
        }
        // The key is a string, not decoded: a different spelling is a different key.
        assert_ne!(
            accept_for_key("dGhlIHNhbXBsZSBub25jZQ"),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
