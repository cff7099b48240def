//! Capture inspection: pcap/pcapng reading, link/IP/TCP parsing, TCP reassembly, HTTP and
//! WebSocket dissection with the same `wire` decoder the runner uses, and byte accounting.
//! It may use `wire`, `trace` and pcap-parser.
