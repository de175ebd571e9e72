#pragma once

/// The disk side of call recordings: one background thread that does every write(2) of every
/// recording, so the media threads never wait on the page cache or the disk.
///
///   media thread:  recorder ─> async_file_sink::write   (memcpy into the file's chunk)
///                                   │ full chunk (16 KB, a quarter second of stereo 16 kHz)
///                                   ▼
///   writer thread:  queue ─> pwrite(fd, chunk, offset) ... ─> close(fd) ─> done(ok)
///
/// A sink's chunks are queued with their file offsets (a `seek` only moves the offset the next
/// bytes go to), and one thread takes the queue in order, so each file's writes, its header
/// fix-up and its close happen in the order the sink made them. Measured: with 1,000
/// concurrent recorded calls the writes cost a quarter of a core (copies into the page cache),
/// which used to land on the RTP thread (docs/benchmarks.md, "Calls").
///
/// When more than `max_pending_bytes` wait (a disk slower than the calls), new chunks are
/// dropped and their recordings marked failed rather than growing memory without bound.

#include "domain/media/wav.hpp"
#include "domain/result.hpp"

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace gobi::rtp {

struct file_writer_options {
  /// A sink hands its bytes over in chunks of this size: a quarter of a second of stereo
  /// 16 kHz, so the buffer a recorded call holds stays small (memory goal: 150 KB per call).
  std::size_t chunk_bytes = 16 * 1024;
  std::size_t max_pending_bytes = std::size_t{64} << 20; ///< queued bytes beyond: dropped
  std::size_t pooled_chunks = 64; ///< empty chunks kept for reuse (no malloc per chunk)
};

struct file_writer_stats {
  std::uint64_t files_opened = 0, files_closed = 0;
  std::uint64_t chunks_written = 0, bytes_written = 0;
  std::uint64_t write_errors = 0;   ///< pwrite/close failures
  std::uint64_t chunks_dropped = 0; ///< over max_pending_bytes
  std::size_t pending_bytes = 0;    ///< queued now
};

class file_writer;

/// One file being written through a file_writer. Single-threaded on the producing side (the
/// call's transport thread); the writes happen on the writer's thread.
class async_file_sink final : public media::byte_sink {
public:
  async_file_sink(const async_file_sink&) = delete;
  async_file_sink& operator=(const async_file_sink&) = delete;
  /// Closes (without a callback) when close() was not called.
  ~async_file_sink() override;

  /// Copies into the current chunk; a full chunk goes to the writer. False once anything
  /// failed (a write, or a chunk dropped for a full queue).
  bool write(std::span<const std::uint8_t> data) override;
  /// Hands over what is buffered; the next bytes go to `offset`.
  bool seek(std::uint64_t offset) override;
  /// Hands over the rest and closes the file on the writer thread; `done(ok)` runs there
  /// afterwards (ok: every byte was written and the close succeeded), or here at once when the
  /// writer has stopped. Once; later calls run `done(ok)` at once.
  void close(std::function<void(bool)> done = {});

  bool ok() const noexcept;

  struct file; ///< the descriptor and its status, shared with queued jobs

private:
  friend class file_writer;
  async_file_sink(file_writer& w, std::shared_ptr<file> f) noexcept;
  void hand_over();

  file_writer* writer_;
  std::shared_ptr<file> file_;
  std::vector<std::uint8_t> chunk_;
  std::uint64_t offset_ = 0; ///< file offset of chunk_[0]
  bool closed_ = false;
};

/// The writer thread and its queue. Thread-safe. Destroying it (or stop()) writes and closes
/// everything queued, then joins; sinks that outlive it write synchronously.
class file_writer {
public:
  explicit file_writer(file_writer_options o = {});
  ~file_writer();
  file_writer(const file_writer&) = delete;
  file_writer& operator=(const file_writer&) = delete;

  /// Creates (truncates) `path` now, on the caller's thread, so the error is the caller's:
  /// errc::internal with the OS reason.
  result<std::unique_ptr<async_file_sink>> open(const std::string& path);
  /// Drains the queue and joins the thread. Idempotent.
  void stop();

  file_writer_stats stats() const;
  const file_writer_options& options() const noexcept { return opts_; }

private:
  friend class async_file_sink;
  struct job {
    std::shared_ptr<async_file_sink::file> f;
    std::vector<std::uint8_t> bytes; ///< pwrite at `offset`; empty: close
    std::uint64_t offset = 0;
    std::function<void(bool)> done; ///< close only
  };

  /// Queues a chunk (false: dropped, queue full) or runs it here when stopped.
  bool submit(job j);
  void run_job(job& j);
  void loop();
  std::vector<std::uint8_t> take_chunk();

  const file_writer_options opts_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  std::vector<std::vector<std::uint8_t>> pool_;
  std::size_t pending_ = 0;
  bool running_ = true;   ///< false once the thread has drained the queue and left
  bool stopping_ = false; ///< stop() asked
  file_writer_stats stats_;
  std::thread thread_;
};

} // namespace gobi::rtp
