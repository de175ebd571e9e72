#include "transport/rtp/file_writer.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace gobi::rtp {

struct async_file_sink::file {
  explicit file(int d) noexcept
      : fd(d) {}
  ~file() {
    if (fd >= 0) ::close(fd);
  }
  file(const file&) = delete;
  file& operator=(const file&) = delete;

  int fd;                    ///< writer thread only (after open)
  std::atomic<bool> ok{true}; ///< set false by either side
};

// --- async_file_sink -------------------------------------------------------------------------

async_file_sink::async_file_sink(file_writer& w, std::shared_ptr<file> f) noexcept
    : writer_(&w)
    , file_(std::move(f)) {}

async_file_sink::~async_file_sink() {
  if (!closed_) close();
}

bool async_file_sink::ok() const noexcept {
  return file_->ok.load(std::memory_order_relaxed);
}

bool async_file_sink::write(std::span<const std::uint8_t> data) {
  if (closed_) return false;
  const std::size_t cap = writer_->options().chunk_bytes;
  while (!data.empty()) {
    if (chunk_.capacity() == 0) chunk_ = writer_->take_chunk();
    const std::size_t n = std::min(data.size(), cap - chunk_.size());
    chunk_.insert(chunk_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    data = data.subspan(n);
    if (chunk_.size() >= cap) hand_over();
  }
  return ok();
}

bool async_file_sink::seek(std::uint64_t offset) {
  if (closed_) return false;
  hand_over();
  offset_ = offset;
  return ok();
}

void async_file_sink::close(std::function<void(bool)> done) {
  if (closed_) {
    if (done) done(ok());
    return;
  }
  hand_over();
  closed_ = true;
  writer_->submit(file_writer::job{file_, {}, 0, std::move(done)});
}

void async_file_sink::hand_over() {
  if (chunk_.empty()) return;
  const auto size = chunk_.size();
  if (!writer_->submit(file_writer::job{file_, std::move(chunk_), offset_, {}}))
    file_->ok.store(false, std::memory_order_relaxed);
  chunk_ = {};
  offset_ += size;
}

// --- file_writer ----------------------------------------------------------------------------

file_writer::file_writer(file_writer_options o)
    : opts_(o) {
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "gobi-rec");
    loop();
  });
}

file_writer::~file_writer() {
  stop();
}

void file_writer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

result<std::unique_ptr<async_file_sink>> file_writer::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(errc::internal,
                      "cannot create recording '" + path + "': " + std::strerror(errno));
  {
    std::lock_guard lock(mutex_);
    ++stats_.files_opened;
  }
  return std::unique_ptr<async_file_sink>(
      new async_file_sink(*this, std::make_shared<async_file_sink::file>(fd)));
}

file_writer_stats file_writer::stats() const {
  std::lock_guard lock(mutex_);
  auto s = stats_;
  s.pending_bytes = pending_;
  return s;
}

std::vector<std::uint8_t> file_writer::take_chunk() {
  {
    std::lock_guard lock(mutex_);
    if (!pool_.empty()) {
      auto c = std::move(pool_.back());
      pool_.pop_back();
      return c;
    }
  }
  std::vector<std::uint8_t> c;
  c.reserve(opts_.chunk_bytes);
  return c;
}

bool file_writer::submit(job j) {
  {
    std::unique_lock lock(mutex_);
    if (running_) {
      const auto size = j.bytes.size();
      if (size > 0 && pending_ + size > opts_.max_pending_bytes) {
        ++stats_.chunks_dropped;
        return false;
      }
      pending_ += size;
      queue_.push_back(std::move(j));
      lock.unlock();
      wake_.notify_one();
      return true;
    }
  }
  run_job(j); // the thread has stopped: nobody else writes any more
  return true;
}

void file_writer::run_job(job& j) {
  auto& f = *j.f;
  if (j.bytes.empty()) { // close
    bool ok = f.ok.load(std::memory_order_relaxed);
    if (f.fd >= 0 && ::close(std::exchange(f.fd, -1)) != 0) ok = false;
    f.ok.store(ok, std::memory_order_relaxed);
    {
      std::lock_guard lock(mutex_);
      ++stats_.files_closed;
      if (!ok) ++stats_.write_errors;
    }
    if (j.done) j.done(ok);
    return;
  }
  bool ok = f.fd >= 0;
  std::size_t done = 0;
  while (ok && done < j.bytes.size()) {
    const auto n = ::pwrite(f.fd, j.bytes.data() + done, j.bytes.size() - done,
                            static_cast<off_t>(j.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (!ok) f.ok.store(false, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  if (ok) {
    ++stats_.chunks_written;
    stats_.bytes_written += done;
  } else {
    ++stats_.write_errors;
  }
}

void file_writer::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) { // stopping, and everything is written
      running_ = false;
      return;
    }
    auto j = std::move(queue_.front());
    queue_.pop_front();
    pending_ -= j.bytes.size();
    lock.unlock();
    run_job(j);
    lock.lock();
    if (j.bytes.capacity() >= opts_.chunk_bytes && pool_.size() < opts_.pooled_chunks) {
      j.bytes.clear();
      pool_.push_back(std::move(j.bytes));
    }
  }
}

} // namespace gobi::rtp
