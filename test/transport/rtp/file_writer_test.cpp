#include "transport/rtp/file_writer.hpp"

#include "domain/media/wav.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <numeric>

using namespace gobi;
using namespace gobi::rtp;

namespace {

std::filesystem::path temp_path(const char* name) {
  return std::filesystem::temp_directory_path() /
         ("gobi-file-writer-" + std::to_string(::getpid()) + "-" + name);
}

std::vector<std::uint8_t> read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Closes `sink` and waits for the writer thread to have closed the file.
bool close_and_wait(async_file_sink& sink) {
  std::promise<bool> closed;
  auto f = closed.get_future();
  sink.close([&](bool ok) { closed.set_value(ok); });
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return f.get();
}

} // namespace

TEST_CASE("file_writer: a WAV streamed through it is byte for byte the in-memory one") {
  file_writer w{file_writer_options{4096, 1 << 20, 4}}; // small chunks: many hand-overs
  const auto path = temp_path("wav.wav");
  auto sink = w.open(path.string());
  REQUIRE(sink.ok());
  media::memory_byte_sink mem;
  {
    media::wav_writer file_wav(**sink, 16000, 2), mem_wav(mem, 16000, 2);
    std::vector<std::int16_t> block(640);
    for (int i = 0; i < 200; ++i) { // 200 blocks of 20 ms: 256,000 bytes
      std::iota(block.begin(), block.end(), static_cast<std::int16_t>(i * 7));
      CHECK(file_wav.write(block));
      CHECK(mem_wav.write(block));
    }
    CHECK(file_wav.close()); // the header fix-up: seeks back, then forward
    CHECK(mem_wav.close());
  }
  CHECK(close_and_wait(**sink));
  CHECK(read_all(path) == mem.data());
  const auto s = w.stats();
  CHECK(s.files_opened == 1);
  CHECK(s.files_closed == 1);
  CHECK(s.bytes_written == mem.data().size() + 8); // and the two sizes rewritten in the header
  CHECK(s.write_errors == 0);
  CHECK(s.pending_bytes == 0);
  std::filesystem::remove(path);
}

TEST_CASE("file_writer: a full queue drops chunks and fails the recording, not the writer") {
  // 1 KB chunks, at most 2 KB queued. The writer thread is held in a first file's close
  // callback, so the second file's chunks find the queue full.
  file_writer w{file_writer_options{1024, 2048, 0}};
  const auto blocker_path = temp_path("blocker.raw");
  auto blocker = w.open(blocker_path.string());
  REQUIRE(blocker.ok());
  std::promise<void> release, held;
  auto released = release.get_future().share();
  (*blocker)->close([&, released](bool) {
    held.set_value();
    released.wait();
  });
  held.get_future().wait();

  const auto path = temp_path("full.raw");
  auto sink = w.open(path.string());
  REQUIRE(sink.ok());
  const std::vector<std::uint8_t> kb(1024, 0x5a);
  CHECK((*sink)->write(kb));       // a full chunk: queued (1 KB pending)
  CHECK((*sink)->write(kb));       // 2 KB pending
  CHECK_FALSE((*sink)->write(kb)); // over 2 KB: dropped
  CHECK_FALSE((*sink)->ok());
  CHECK(w.stats().chunks_dropped == 1);
  release.set_value();
  CHECK_FALSE(close_and_wait(**sink));

  // The writer goes on: a later file is written whole.
  const auto path2 = temp_path("after.raw");
  auto sink2 = w.open(path2.string());
  REQUIRE(sink2.ok());
  CHECK((*sink2)->write(kb));
  CHECK(close_and_wait(**sink2));
  CHECK(read_all(path2) == kb);
  for (const auto& p : {blocker_path, path, path2})
    std::filesystem::remove(p);
}

TEST_CASE("file_writer: an unwritable path is the caller's error; a stopped writer writes inline") {
  file_writer w;
  auto bad = w.open("/nonexistent-dir/x.wav");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::internal);
  CHECK(bad.err().message.find("/nonexistent-dir/x.wav") != std::string::npos);

  const auto path = temp_path("stopped.raw");
  auto sink = w.open(path.string());
  REQUIRE(sink.ok());
  const std::vector<std::uint8_t> bytes{1, 2, 3, 4};
  CHECK((*sink)->write(bytes));
  w.stop(); // drains what is queued (nothing: the bytes are still in the sink's chunk)
  CHECK((*sink)->write(bytes));
  bool done = false;
  (*sink)->close([&](bool ok) { done = ok; }); // runs here, at once
  CHECK(done);
  CHECK(read_all(path) == std::vector<std::uint8_t>{1, 2, 3, 4, 1, 2, 3, 4});
  std::filesystem::remove(path);
}

TEST_CASE("file_writer: a sink dropped without close() still gets its file written and closed") {
  const auto path = temp_path("dropped.raw");
  {
    file_writer w;
    auto sink = w.open(path.string());
    REQUIRE(sink.ok());
    const std::vector<std::uint8_t> bytes(100, 7);
    CHECK((*sink)->write(bytes));
  } // sink, then the writer (which drains) go
  CHECK(read_all(path) == std::vector<std::uint8_t>(100, 7));
  std::filesystem::remove(path);
}
