// libFuzzer target for the queue decoder (not part of the addon: scripts/gyp-sources.mjs skips
// fuzz_*.cc). Built and run for a bounded time by test/native/ghost/fuzz.test.ts:
//   clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Inative \
//     native/ghost/fuzz_decoder.cc native/ghost/queue.cc -o /tmp/fuzz_decoder
//   /tmp/fuzz_decoder -max_total_time=10
// Input layout: byte 0 picks the ABI (84/90/91), byte 1 the ring size, the rest is the mapping.
// The mapping is copied into a buffer of exactly its size, so any read past it trips ASan.
#include <cstdint>
#include <cstring>
#include <vector>

#include "ghost/queue.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const uint32_t kAbis[] = {84, 90, 91};
  const uint32_t abi = kAbis[data[0] % 3];
  const uint32_t nelems = 1u << (data[1] % 8);
  const bool validHeader = data[1] & 0x80;
  data += 2;
  size -= 2;
  std::vector<uint8_t> map(size);
  if (size) std::memcpy(map.data(), data, size);
  if (size >= 12 && validHeader) {
    // Half the inputs get a valid header so the slots are actually decoded.
    const uint32_t hdr[3] = {0, 64, nelems};
    std::memcpy(map.data(), hdr, sizeof hdr);
  }
  ghost::QueueView v;
  if (v.attach(map.data(), map.size(), 0) != 0) return 0;
  ghost::TaskTable table;
  ghost::Decoded out[16];
  for (int round = 0; round < 1 << 16 && v.pending() != 0; round++) v.drain(abi, table, out, 16);
  const ghost::DrainStats& s = v.stats();
  if (s.messages + s.bad + s.nops + s.staleSeq > v.nelems()) __builtin_trap();
  return 0;
}

#ifdef ALPS_FUZZ_STANDALONE
// Without libFuzzer (g++ has ASan/UBSan but no libFuzzer): a bounded random driver. Half the
// inputs are random bytes, half are well-formed rings (kernel producer layout, NOP padding) with
// a few bytes flipped and a random truncation, so the decoder's accept paths are exercised too.
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {
uint64_t rng = 0x9e3779b97f4a7c15ull;
uint64_t next() {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

std::vector<uint8_t> wellFormed(uint32_t abi, uint32_t nelems) {
  std::vector<uint8_t> m(76 + 8 * size_t(nelems));
  const uint32_t hdr[3] = {0, 64, nelems};
  std::memcpy(m.data(), hdr, sizeof hdr);
  static const uint16_t kTypes[] = {64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 128, 129, 130, 131, 132, 133, 134};
  uint32_t start = uint32_t(next()), head = start;
  for (int k = 0; k < 64; k++) {
    uint16_t type = kTypes[next() % (sizeof kTypes / sizeof kTypes[0])];
    uint16_t len = uint16_t(8 + ghost::abi::payloadSize(abi, type));
    uint32_t need = (len + 7u) / 8u, idx = head & (nelems - 1), contiguous = nelems - idx;
    uint32_t skip = need > contiguous ? contiguous : 0;
    if (head - start + skip + need > nelems) break;
    if (skip) {
      ghost::abi::MsgHeader nop{0, uint16_t(skip * 8), 0};
      std::memcpy(m.data() + 76 + 8 * size_t(idx), &nop, sizeof nop);
    }
    ghost::abi::MsgHeader h{type, len, uint32_t(k + 1)};
    uint8_t* at = m.data() + 76 + 8 * size_t((head + skip) & (nelems - 1));
    std::memcpy(at, &h, sizeof h);
    uint64_t gtid = ((next() % 8 + 1) << 41) | 1;
    std::memcpy(at + 8, &gtid, sizeof gtid);
    head += skip + need;
  }
  std::memcpy(m.data() + 64, &head, 4);
  std::memcpy(m.data() + 68, &start, 4);
  return m;
}
}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  if (argc > 2) rng = std::strtoull(argv[2], nullptr, 10) | 1;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  uint64_t runs = 0;
  std::vector<uint8_t> in;
  while (std::chrono::steady_clock::now() < end) {
    for (int batch = 0; batch < 256; batch++, runs++) {
      uint8_t sel[2] = {uint8_t(next()), uint8_t(next())};
      if (next() & 1) {
        in.assign(2 + next() % 4096, 0);
        for (auto& b : in) b = uint8_t(next());
        in[0] = sel[0];
        in[1] = sel[1];
      } else {
        static const uint32_t kAbis[] = {84, 90, 91};
        std::vector<uint8_t> ring = wellFormed(kAbis[sel[0] % 3], 1u << (3 + next() % 6));
        for (int f = int(next() % 6); f > 0; f--) ring[64 + next() % (ring.size() - 64)] = uint8_t(next());
        ring.resize(ring.size() - (next() % 4 == 0 ? next() % ring.size() : 0));
        in.assign(2, 0);
        in[0] = sel[0];
        in[1] = uint8_t(sel[1] & 0x7f);  // keep the ring's own header
        in.insert(in.end(), ring.begin(), ring.end());
      }
      LLVMFuzzerTestOneInput(in.data(), in.size());
    }
  }
  std::printf("fuzz_decoder: %llu inputs in %.1f s, no crash\n", static_cast<unsigned long long>(runs), seconds);
  return 0;
}
#endif
