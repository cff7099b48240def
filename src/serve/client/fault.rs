//! The catalogue of deliberate defects of the reference client: one [`ClientFault`] per
//! single-point deviation from the conformant client, each with a kebab-case name, a one-line
//! description and the RFC 6455 section whose requirement it breaks.
//!
//! Pure data, like the server's `fault.rs`: what each defect does is implemented where the
//! conformant client would do the right thing (`handshake.rs`, `session.rs`, `mask.rs`).

use crate::wire::Level;

/// What a client fault is: its name, what it does wrong and which requirement that breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientFaultInfo {
    /// The fault.
    pub fault: ClientFault,
    /// Kebab-case name, as given to `wsprobe client --fault`.
    pub name: &'static str,
    /// What the client does wrong, in one line.
    pub description: &'static str,
    /// The RFC section whose requirement the defect breaks, e.g. `RFC 6455 §5.3`.
    pub section: &'static str,
    /// How strongly the RFC words that requirement.
    pub level: Level,
}

/// Declares [`ClientFault`] and the table behind [`client_faults`] from one list, so every
/// variant has exactly one entry.
macro_rules! client_fault_table {
    ($($variant:ident = $name:literal, $level:ident, $section:literal, $description:literal;)*) => {
        /// A deliberate defect of the reference client.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ClientFault {
            $(
                #[doc = $description]
                #[doc = ""]
                #[doc = concat!("Breaks ", $section, ".")]
                $variant,
            )*
        }

        static CLIENT_FAULTS: &[ClientFaultInfo] = &[
            $(ClientFaultInfo {
                fault: ClientFault::$variant,
                name: $name,
                description: $description,
                section: $section,
                level: Level::$level,
            },)*
        ];
    };
}

client_fault_table! {
    // Masking (§5.3, §10.3).
    NoMask = "no-mask", Must, "RFC 6455 §5.3",
        "sends every frame unmasked";
    ConstantMask = "constant-mask", Must, "RFC 6455 §5.3",
        "masks every frame of every connection with the same key";
    CounterMask = "counter-mask", Must, "RFC 6455 §5.3",
        "uses predictable mask keys 0, 1, 2, ... counted across connections";
    // The server's handshake response (§4.1).
    AcceptBadAccept = "accept-bad-accept", Must, "RFC 6455 §4.1",
        "does not check Sec-WebSocket-Accept";
    AcceptAnyStatus = "accept-any-status", Must, "RFC 6455 §4.1",
        "treats any status code as 101 Switching Protocols";
    AcceptMissingUpgrade = "accept-missing-upgrade", Must, "RFC 6455 §4.1",
        "accepts a 101 without Upgrade: websocket";
    AcceptMissingConnection = "accept-missing-connection", Must, "RFC 6455 §4.1",
        "accepts a 101 whose Connection header lacks the Upgrade token";
    AcceptUnofferedProtocol = "accept-unoffered-protocol", Must, "RFC 6455 §4.1",
        "accepts a subprotocol it did not offer";
    AcceptUnofferedExtension = "accept-unoffered-extension", Must, "RFC 6455 §4.1",
        "accepts an extension it did not offer";
    AcceptHttp10 = "accept-http10", Must, "RFC 6455 §4.1",
        "accepts a 101 whose status line says HTTP/1.0";
    OfferDeflateUnsupported = "offer-deflate-unsupported", Must, "RFC 7692 §5",
        "offers permessage-deflate but cannot inflate, so compressed messages fail it";
    IgnoreGarbage = "ignore-garbage", Must, "RFC 6455 §5.2",
        "skips bytes after the 101 that do not decode as a valid frame instead of failing";
    // Frames from the server (§5.1, §5.2, §5.5, §8.1).
    AcceptMaskedFrames = "accept-masked-frames", Must, "RFC 6455 §5.1",
        "accepts masked frames from the server";
    IgnoreRsv = "ignore-rsv", Must, "RFC 6455 §5.2",
        "accepts frames with RSV bits set although no extension was negotiated";
    IgnoreReservedOpcodes = "ignore-reserved-opcodes", Must, "RFC 6455 §5.2",
        "skips frames with a reserved opcode instead of failing the connection";
    NoUtf8Check = "no-utf8-check", Must, "RFC 6455 §8.1",
        "echoes text messages that are not valid UTF-8";
    AcceptBadControl = "accept-bad-control", Must, "RFC 6455 §5.5",
        "handles control frames over 125 bytes or with FIN clear as ordinary ones";
    AcceptBadClose = "accept-bad-close", Must, "RFC 6455 §7.4",
        "answers a close with an invalid code (echoing it), a one-byte payload or a non-UTF-8 reason as a valid one";
    // The closing handshake (§5.5.1, §7.1.1) and ping (§5.5.2).
    EchoAfterClose = "echo-after-close", Must, "RFC 6455 §5.5.1",
        "keeps echoing data that arrives after the server's close frame";
    NoCloseReply = "no-close-reply", Must, "RFC 6455 §5.5.1",
        "never answers the server's close frame";
    CloseTcpFirst = "close-tcp-first", Should, "RFC 6455 §7.1.1",
        "closes TCP right after its close reply instead of waiting for the server to close it";
    NoPong = "no-pong", Must, "RFC 6455 §5.5.2",
        "never answers a ping";
    // HTTP/2 (`--http2`, RFC 8441).
    H2ConnectBeforeSettings = "h2-connect-before-settings", Must, "RFC 8441 §3",
        "with --http2, sends its extended CONNECT right behind the connection preface, before the server's SETTINGS enable it";
}

/// Every client fault, in catalogue order.
pub fn client_faults() -> &'static [ClientFaultInfo] {
    CLIENT_FAULTS
}

impl ClientFault {
    /// The catalogue entry of this fault.
    pub fn info(self) -> ClientFaultInfo {
        // The table is generated from the same list as the enum: every variant is in it.
        *CLIENT_FAULTS
            .iter()
            .find(|info| info.fault == self)
            .expect("every client fault has a catalogue entry")
    }

    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The fault named `name`, if any.
    pub fn from_name(name: &str) -> Option<ClientFault> {
        CLIENT_FAULTS
            .iter()
            .find(|info| info.name == name)
            .map(|info| info.fault)
    }

    /// Every name, in catalogue order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        CLIENT_FAULTS.iter().map(|info| info.name)
    }
}

/// The faults a client runs with; empty is the conformant client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultSet {
    faults: Vec<ClientFault>,
}

impl FaultSet {
    /// The set of `faults` (duplicates are kept once).
    pub fn new(faults: impl IntoIterator<Item = ClientFault>) -> FaultSet {
        let mut faults: Vec<ClientFault> = faults.into_iter().collect();
        faults.sort();
        faults.dedup();
        FaultSet { faults }
    }

    /// Whether `fault` is in the set.
    pub fn has(&self, fault: ClientFault) -> bool {
        self.faults.contains(&fault)
    }

    /// Whether the set is empty (the conformant client).
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    /// The faults, in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = ClientFault> + '_ {
        self.faults.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_round_trips_through_its_name() {
        assert!(client_faults().len() >= 20);
        for info in client_faults() {
            assert_eq!(ClientFault::from_name(info.name), Some(info.fault));
            assert_eq!(info.fault.info(), *info);
            assert!(info.section.starts_with("RFC "), "{}", info.name);
            assert!(!info.description.is_empty());
        }
        assert_eq!(ClientFault::from_name("no-png"), None);
        let mut names: Vec<&str> = ClientFault::names().collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "names are unique");
    }

    #[test]
    fn a_fault_set_keeps_each_fault_once() {
        let set = FaultSet::new([
            ClientFault::NoPong,
            ClientFault::NoMask,
            ClientFault::NoPong,
        ]);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [ClientFault::NoMask, ClientFault::NoPong]
        );
        assert!(set.has(ClientFault::NoPong) && !set.has(ClientFault::IgnoreRsv));
        assert!(FaultSet::default().is_empty());
    }
}
