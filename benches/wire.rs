//! Decode + unmask throughput of the `wire` frame decoder for 16 B, 1 KiB, 64 KiB and 1 MiB
//! masked frames (the client-to-server direction, where every byte is unmasked).
//!
//! Run: `cargo bench --bench wire`. Each iteration pushes a buffer of back-to-back frames
//! (about 4 MiB) into a decoder and takes every frame out.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use wsprobe::wire::{Decoded, FrameDecoder, FrameSpec, Opcode};

fn stream_of(frame_len: usize) -> (Vec<u8>, usize) {
    let count = (4 * 1024 * 1024 / frame_len).max(1);
    let payload: Vec<u8> = (0..frame_len).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::new();
    for i in 0..count {
        FrameSpec::new(Opcode::Binary, payload.clone())
            .masked([0x37, 0xfa, 0x21, (i % 256) as u8])
            .encode_into(&mut out);
    }
    (out, count)
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode+unmask");
    for (name, len) in [
        ("16B", 16),
        ("1KiB", 1024),
        ("64KiB", 64 * 1024),
        ("1MiB", 1024 * 1024),
    ] {
        let (stream, count) = stream_of(len);
        group.throughput(Throughput::Bytes(stream.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut d = FrameDecoder::default();
                // Feed in 64 KiB reads, as a socket would deliver them.
                let mut frames = 0;
                for chunk in stream.chunks(64 * 1024) {
                    d.push(chunk);
                    while let Decoded::Frame(f) = d.next_frame() {
                        black_box(&f.frame.payload);
                        frames += 1;
                    }
                }
                assert_eq!(frames, count);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
