#include "transport/rtp/engine.hpp"

#include "transport/rtp/file_writer.hpp"

#include <utility> // before Asio, for GCC 12

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gobi::rtp {

namespace {

namespace net = boost::asio;
using udp = net::ip::udp;
using error_code = boost::system::error_code;
/// Sockets and timers typed on the io_context's executor rather than Asio's type-erased
/// any_io_executor: every operation skips the type erasure.
using executor = net::io_context::executor_type;
using udp_socket = net::basic_datagram_socket<udp, executor>;
using timer_type =
    net::basic_waitable_timer<steady_clock, net::wait_traits<steady_clock>, executor>;

/// Receive buffer per socket. RTP audio datagrams are far smaller; one that fills the buffer
/// may have been truncated by the kernel, so it is counted as malformed, never delivered cut.
constexpr std::size_t receive_buffer_bytes = 2048;
/// Datagrams one recvmmsg(2) of a polled RTP socket takes at most (a call gets one per 20 ms;
/// more after a burst, and the poll repeats while the batch comes back full).
constexpr unsigned poll_batch = 4;
/// Timer slack of the transport threads (Linux default: 50 us). Clock ticks are timers, and
/// the slack is added to every wake-up, so keep it small.
constexpr unsigned long transport_timer_slack_ns = 1000;

/// A counter written by one thread and read by others: relaxed load and store, no locked
/// read-modify-write on the packet path.
struct counter {
  std::atomic<std::uint64_t> v{0};
  void add(std::uint64_t n = 1) noexcept {
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

endpoint to_endpoint(const udp::endpoint& e) {
  return endpoint{e.address().to_string(), e.port()};
}

} // namespace

// --- transport threads ---------------------------------------------------------------------

/// One transport thread: its io_context, its clock and the ports living on it. Shared by the
/// engine and by every port on it, so a port handle outliving the engine stays safe.
struct io_thread {
  explicit io_thread(unsigned i)
      : index(i) {}

  const unsigned index;
  net::io_context ioc{1};
  net::executor_work_guard<net::io_context::executor_type> guard{ioc.get_executor()};
  std::thread thread;
  std::unique_ptr<media_clock> clock; ///< after ioc: its timer must go before the io_context

  // Touched on this thread only.
  std::vector<udp_port::impl*> ports;
  bool stopping = false;

  std::atomic<std::size_t> port_count{0};

  /// Posts `fn` to the thread while it runs; once stopped, runs it here (nobody else runs
  /// the io_context any more, and a post would never run).
  template <class F> void run_or_post(F&& fn) {
    {
      std::lock_guard lock(post_mutex);
      if (running) {
        net::post(ioc, std::forward<F>(fn));
        return;
      }
    }
    fn();
  }
  bool on_thread() noexcept { return ioc.get_executor().running_in_this_thread(); }

  std::mutex post_mutex;
  bool running = true;

  /// Shared by every polled port of this thread (one poll at a time): recvmmsg's buffers,
  /// its headers pointing into them once and for all.
  struct poll_buffers {
    std::array<std::array<std::byte, receive_buffer_bytes>, poll_batch> data;
    std::array<::mmsghdr, poll_batch> msgs{};
    std::array<::iovec, poll_batch> iov;
    std::array<::sockaddr_storage, poll_batch> from;
    std::array<std::array<char, CMSG_SPACE(sizeof(::timespec))>, poll_batch> control;

    poll_buffers() noexcept {
      for (unsigned i = 0; i < poll_batch; ++i) {
        iov[i] = {data[i].data(), data[i].size()};
        auto& h = msgs[i].msg_hdr;
        h.msg_name = &from[i];
        h.msg_iov = &iov[i];
        h.msg_iovlen = 1;
        h.msg_control = control[i].data();
      }
    }
    poll_buffers(const poll_buffers&) = delete;
    poll_buffers& operator=(const poll_buffers&) = delete;
    /// The kernel overwrites the lengths (and flags) it fills in: room again before a call.
    void reset_lengths() noexcept {
      for (unsigned i = 0; i < poll_batch; ++i) {
        auto& h = msgs[i].msg_hdr;
        h.msg_namelen = sizeof from[i];
        h.msg_controllen = control[i].size();
        h.msg_flags = 0;
      }
    }
  };
  std::unique_ptr<poll_buffers> polling = std::make_unique<poll_buffers>();
};

namespace {
/// The kernel's receive time of a datagram (SO_TIMESTAMPNS, CLOCK_REALTIME) on the steady
/// clock: `steady_now` less how long ago it arrived; `steady_now` when there is none.
time_point arrival_of(const ::msghdr& h, time_point steady_now, const ::timespec& real_now) {
  for (auto* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(const_cast<::msghdr*>(&h), c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_TIMESTAMPNS) continue;
    ::timespec ts;
    std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
    const auto ago = std::chrono::seconds(real_now.tv_sec - ts.tv_sec) +
                     std::chrono::nanoseconds(real_now.tv_nsec - ts.tv_nsec);
    if (ago <= duration::zero()) return steady_now;
    if (ago > std::chrono::seconds(1)) return steady_now - std::chrono::seconds(1);
    return steady_now - std::chrono::duration_cast<duration>(ago);
  }
  return steady_now;
}
} // namespace

// --- media_clock ---------------------------------------------------------------------------

struct media_clock::impl {
  impl(io_thread& t, time_point start, duration period, unsigned phases)
      : thread(t)
      , timer(t.ioc.get_executor())
      , schedule(start, period / (phases == 0 ? 1 : phases), phases)
      , streams(phases) {}

  io_thread& thread;
  timer_type timer;
  tick_schedule schedule; ///< of the sub-period (ptime / phases)
  phased_streams streams;
  bool stopped = false;

  std::atomic<std::size_t> count{0};
  counter ticks, skipped, late;
  std::atomic<duration::rep> max_lateness{0}, max_work{0}, total_work{0};

  void arm() {
    timer.expires_at(schedule.deadline());
    timer.async_wait([this](const error_code& ec) { on_timer(ec); });
  }

  void on_timer(const error_code& ec) {
    if (ec || stopped) return;
    const auto now = steady_clock::now();
    bool ran = false;
    while (const auto t = schedule.fire(now)) { // more than one only when late
      streams.tick(*t);
      ticks.add();
      if (t->skipped) {
        skipped.add(t->skipped);
        late.add();
      }
      ran = true;
    }
    if (ran) {
      const auto work = (steady_clock::now() - now).count();
      max_lateness.store(schedule.max_lateness().count(), std::memory_order_relaxed);
      if (work > max_work.load(std::memory_order_relaxed))
        max_work.store(work, std::memory_order_relaxed);
      total_work.store(total_work.load(std::memory_order_relaxed) + work,
                       std::memory_order_relaxed);
    }
    arm();
  }

  void add_here(std::shared_ptr<clocked_stream> s) {
    if (!stopped && streams.add(std::move(s))) count.store(streams.size());
  }
  void remove_here(const clocked_stream& s) {
    if (streams.remove(s)) count.store(streams.size());
  }
  void stop_here() {
    stopped = true;
    timer.cancel();
    streams.clear();
    count.store(0);
  }
};

media_clock::media_clock(std::unique_ptr<impl> i) noexcept
    : impl_(std::move(i)) {}
media_clock::~media_clock() = default;

void media_clock::add(std::shared_ptr<clocked_stream> s) {
  if (!s) return;
  if (impl_->thread.on_thread()) return impl_->add_here(std::move(s));
  impl_->thread.run_or_post(
      [i = impl_.get(), s = std::move(s)]() mutable { i->add_here(std::move(s)); });
}

void media_clock::remove(std::shared_ptr<clocked_stream> s) {
  if (!s) return;
  if (impl_->thread.on_thread()) return impl_->remove_here(*s);
  impl_->thread.run_or_post([i = impl_.get(), s = std::move(s)] { i->remove_here(*s); });
}

bool media_clock::on_clock_thread() const noexcept {
  return impl_->thread.on_thread();
}
std::size_t media_clock::streams() const noexcept {
  return impl_->count.load();
}
duration media_clock::period() const noexcept {
  return impl_->schedule.period() * impl_->streams.phases();
}
unsigned media_clock::index() const noexcept {
  return impl_->thread.index;
}

clock_stats media_clock::stats() const noexcept {
  clock_stats s;
  s.streams = impl_->count.load();
  s.phases = impl_->streams.phases();
  s.ticks = impl_->ticks.get();
  s.skipped = impl_->skipped.get();
  s.late = impl_->late.get();
  s.max_lateness = duration(impl_->max_lateness.load(std::memory_order_relaxed));
  s.max_tick_work = duration(impl_->max_work.load(std::memory_order_relaxed));
  s.total_tick_work = duration(impl_->total_work.load(std::memory_order_relaxed));
  return s;
}

// --- udp_port ------------------------------------------------------------------------------

/// A port's state, on its transport thread. Pending receives and timers hold a shared_ptr to
/// it, so it lives until the last of them has completed after close.
struct udp_port::impl final : media_port,
                              clocked_stream,
                              std::enable_shared_from_this<udp_port::impl> {
  impl(std::shared_ptr<io_thread> t, port_lease l, const std::string& host, port_options o,
       bool poll)
      : thread(std::move(t))
      , lease(std::move(l))
      , rtp(thread->ioc.get_executor())
      , rtcp(thread->ioc.get_executor())
      , timer(thread->ioc.get_executor())
      , local_address(host)
      , rtp_port(lease.rtp_port())
      , ipv6(lease.ipv6())
      , opts(o)
      , poll_rtp(poll)
      , rtp_latch(o.latch)
      , rtcp_latch(o.latch) {}

  // --- set up on the creating thread, before anyone else sees the port
  status adopt_sockets() {
    error_code ec;
    // Both sockets come non-blocking from the allocator (sends fail fast, never wait).
    rtcp.assign(lease.ipv6() ? udp::v6() : udp::v4(), lease.take_rtcp_fd(), ec);
    if (ec) return make_error(errc::internal, "cannot adopt RTP sockets: " + ec.message());
    // The RTP socket stays a plain descriptor until start() knows whether it is polled: one
    // in Asio's reactor is registered with epoll, and every datagram would wake the thread.
    rtp_fd = lease.take_rtp_fd();
    if (poll_rtp) { // polled arrivals are stamped by the kernel, not by the poll
      const int on = 1;
      if (::setsockopt(rtp_fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0)
        return make_error(errc::internal, "cannot enable RTP receive timestamps");
    }
    return unit;
  }

  ~impl() override {
    if (rtp_fd >= 0) ::close(rtp_fd);
  }

  // --- everything below runs on the port's thread

  void register_here() {
    if (closed) return; // closed on this thread before the registration ran
    if (thread->stopping) return close_here();
    slot = thread->ports.size();
    thread->ports.push_back(this);
  }

  void start_here(std::shared_ptr<media_sink> s, std::shared_ptr<clocked_stream> out) {
    if (closed || started || !s) return;
    started = true;
    sink = std::move(s);
    if (out) {
      stream = std::move(out);
      // Polled: the port is the clock's stream, reads its RTP socket and then ticks `stream`.
      if (poll_rtp)
        thread->clock->add(shared_from_this()); // on the clock's thread: at once
      else
        thread->clock->add(stream);
    }
    last_rtp = steady_clock::now();
    if (!(poll_rtp && stream)) {
      error_code ec;
      rtp.assign(ipv6 ? udp::v6() : udp::v4(), rtp_fd, ec);
      if (!ec) {
        rtp_fd = -1; // Asio's now
        receive(true);
      }
    }
    receive(false);
    arm_timeout();
  }

  void set_remote_here(const udp::endpoint& r, const udp::endpoint& c, bool mux) {
    if (closed) return;
    rtp_latch.expect(r);
    rtcp_latch.expect(c);
    rtcp_mux = mux;
    publish_target();
  }

  void set_timeout_here(duration d) {
    if (closed) return;
    opts.media_timeout = d;
    timed_out = false;
    // A new timeout counts from now at the earliest: turning it back on after a hold must not
    // report the hold's silence at once.
    if (started) {
      last_rtp = std::max(last_rtp, steady_clock::now());
      arm_timeout();
    }
  }

  void close_here() {
    if (closed) return;
    closed = true;
    if (stream) // on the clock's thread: at once
      thread->clock->remove(poll_rtp ? std::shared_ptr<clocked_stream>(shared_from_this())
                                     : stream);
    timer.cancel();
    error_code ec;
    rtp.close(ec);
    rtcp.close(ec);
    if (rtp_fd >= 0) ::close(std::exchange(rtp_fd, -1));
    lease = port_lease{}; // sockets closed: the pair may go to the next call
    if (slot < thread->ports.size() && thread->ports[slot] == this) {
      thread->ports[slot] = thread->ports.back();
      thread->ports[slot]->slot = slot;
      thread->ports.pop_back();
    }
    thread->port_count.fetch_sub(1);
    // The sink or stream may be what called close (from on_rtp or on_tick): release them
    // after the current handler, not under its feet.
    if (sink || stream) thread->run_or_post([s = std::move(sink), o = std::move(stream)] {});
  }

  void receive(bool on_rtp_socket) {
    auto& sock = on_rtp_socket ? rtp : rtcp;
    auto& buf = on_rtp_socket ? rtp_buf : rtcp_buf;
    auto& from = on_rtp_socket ? rtp_from : rtcp_from;
    sock.async_receive_from(
        net::buffer(buf), from,
        [self = shared_from_this(), on_rtp_socket](const error_code& ec, std::size_t n) {
          self->on_receive(on_rtp_socket, ec, n);
        });
  }

  void on_receive(bool on_rtp_socket, const error_code& ec, std::size_t n) {
    if (closed || ec == net::error::operation_aborted) return;
    if (!ec) {
      auto& buf = on_rtp_socket ? rtp_buf : rtcp_buf;
      deliver(on_rtp_socket, std::span(buf.data(), n), on_rtp_socket ? rtp_from : rtcp_from,
              steady_clock::now());
      if (closed) return; // the sink closed the port
    }
    // Other errors (an ICMP error reported on the socket) do not stop reception.
    receive(on_rtp_socket);
  }

  /// The clock's tick for this port (polled mode): what arrived since the last one, then the
  /// outbound stream.
  void on_tick(const media_tick& t) override {
    if (closed) return;
    poll();
    if (!closed && stream) stream->on_tick(t);
  }

  /// Reads every datagram waiting on the RTP socket, a batch per recvmmsg(2).
  void poll() {
    auto& b = *thread->polling;
    for (;;) {
      b.reset_lengths();
      const int n = ::recvmmsg(rtp_fd, b.msgs.data(), poll_batch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return; // nothing waiting (EAGAIN), or an ICMP error reported: next tick
      const auto steady_now = steady_clock::now();
      ::timespec real_now{};
      ::clock_gettime(CLOCK_REALTIME, &real_now);
      for (int i = 0; i < n; ++i) {
        const auto& h = b.msgs[static_cast<unsigned>(i)].msg_hdr;
        udp::endpoint src;
        if (h.msg_namelen > src.capacity()) continue;
        std::memcpy(src.data(), h.msg_name, h.msg_namelen);
        src.resize(h.msg_namelen);
        const auto len = (h.msg_flags & MSG_TRUNC) ? receive_buffer_bytes
                                                   : b.msgs[static_cast<unsigned>(i)].msg_len;
        deliver(true, std::span(b.data[static_cast<unsigned>(i)].data(), len), src,
                arrival_of(h, steady_now, real_now));
        if (closed) return; // the sink closed the port
      }
      if (static_cast<unsigned>(n) < poll_batch) return;
    }
  }

  void deliver(bool on_rtp_socket, std::span<std::byte> d, const udp::endpoint& src,
               time_point now) {
    const auto kind = d.size() < receive_buffer_bytes ? classify(d) : datagram_kind::other;
    if (kind == datagram_kind::other || (!on_rtp_socket && kind == datagram_kind::rtp)) {
      malformed.add();
      return;
    }
    // RTCP multiplexed on the RTP port follows the RTP source.
    auto& latch = on_rtp_socket ? rtp_latch : rtcp_latch;
    if (!latch.admit(src, now)) {
      foreign.add();
      return;
    }
    bytes_in.add(d.size());
    verdict v;
    if (kind == datagram_kind::rtp) {
      rtp_in.add();
      v = sink->on_rtp(d, now);
      if (v == verdict::accepted) {
        last_rtp = now;
        if (timed_out) {
          timed_out = false;
          arm_timeout();
        }
      }
    } else {
      rtcp_in.add();
      v = sink->on_rtcp(d, now);
    }
    if (closed) return;
    if (v == verdict::rejected) rejected.add();
    const bool was = latch.confirmed();
    const auto relatches_before = latch.relatches();
    latch.record(src, now, v);
    if (latch.confirmed() != was || latch.relatches() != relatches_before) {
      if (&latch == &rtp_latch) publish_target();
      if (latch.relatches() != relatches_before) relatched.add();
    }
  }

  void arm_timeout() {
    const auto gen = ++timer_generation;
    timer.cancel();
    if (opts.media_timeout <= duration::zero()) return;
    timer.expires_at(last_rtp + opts.media_timeout);
    timer.async_wait(
        [self = shared_from_this(), gen](const error_code& e) { self->on_timeout(e, gen); });
  }

  void on_timeout(const error_code& ec, std::uint64_t gen) {
    if (ec || closed || gen != timer_generation || opts.media_timeout <= duration::zero()) return;
    const auto now = steady_clock::now();
    const auto quiet = now - last_rtp;
    if (quiet < opts.media_timeout) {
      timer.expires_at(last_rtp + opts.media_timeout); // a packet came meanwhile
      timer.async_wait(
          [self = shared_from_this(), gen](const error_code& e) { self->on_timeout(e, gen); });
      return;
    }
    timed_out = true;
    timeouts.add();
    sink->on_media_timeout(quiet);
  }

  void publish_target() {
    std::optional<endpoint> t;
    if (const auto* e = rtp_latch.target()) t = to_endpoint(*e);
    std::lock_guard lock(target_mutex);
    target = std::move(t);
    confirmed.store(rtp_latch.confirmed(), std::memory_order_relaxed);
  }

  // media_port: the chain's sending side.
  send_result send_rtp(std::span<const std::byte> p) override {
    return send(rtp_handle(), rtp_latch.target(), p, rtp_out);
  }
  send_result send_rtcp(std::span<const std::byte> p) override {
    if (rtcp_mux) return send(rtp_handle(), rtp_latch.target(), p, rtcp_out);
    return send(rtcp.native_handle(), rtcp_latch.target(), p, rtcp_out);
  }
  /// The RTP socket's descriptor, wherever it is (plain, or in Asio's reactor).
  int rtp_handle() noexcept { return rtp_fd >= 0 ? rtp_fd : rtp.native_handle(); }
  /// One sendto(2) on a non-blocking socket: what a socket's send_to would do, minus Asio.
  send_result send(int fd, const udp::endpoint* to, std::span<const std::byte> p, counter& sent) {
    if (closed) return send_result::closed;
    if (!to) {
      send_dropped.add();
      return send_result::no_remote;
    }
    ssize_t n;
    do {
      n = ::sendto(fd, p.data(), p.size(), 0, to->data(), static_cast<socklen_t>(to->size()));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      send_dropped.add();
      return errno == EAGAIN || errno == EWOULDBLOCK ? send_result::would_block
                                                      : send_result::failed;
    }
    sent.add();
    bytes_out.add(p.size());
    return send_result::sent;
  }

  std::shared_ptr<io_thread> thread;
  port_lease lease; ///< before the sockets: returned to the allocator only after they close
  udp_socket rtp, rtcp;
  timer_type timer;
  const std::string local_address;
  const std::uint16_t rtp_port;
  const bool ipv6;
  port_options opts;
  const bool poll_rtp; ///< the engine polls RTP sockets on clock ticks (engine_options)
  int rtp_fd = -1;     ///< the RTP socket while it is not in `rtp` (polled, or not started)

  // Port's thread only.
  std::shared_ptr<media_sink> sink;
  std::shared_ptr<clocked_stream> stream;
  source_latch<udp::endpoint> rtp_latch, rtcp_latch;
  bool rtcp_mux = false;
  bool started = false;
  bool closed = false;
  bool timed_out = false;
  time_point last_rtp{};
  std::uint64_t timer_generation = 0;
  std::size_t slot = static_cast<std::size_t>(-1);
  udp::endpoint rtp_from, rtcp_from;
  std::array<std::byte, receive_buffer_bytes> rtp_buf, rtcp_buf;

  // Read from any thread.
  counter rtp_in, rtcp_in, bytes_in, rejected, malformed, foreign;
  counter rtp_out, rtcp_out, bytes_out, send_dropped, timeouts, relatched;
  std::atomic<bool> confirmed{false};
  mutable std::mutex target_mutex;
  std::optional<endpoint> target;
};

udp_port::udp_port(std::shared_ptr<impl> i) noexcept
    : impl_(std::move(i)) {}
udp_port::udp_port(udp_port&&) noexcept = default;
udp_port& udp_port::operator=(udp_port&& o) noexcept {
  if (this != &o) {
    close();
    impl_ = std::move(o.impl_);
  }
  return *this;
}
udp_port::~udp_port() {
  close();
}

const std::string& udp_port::local_address() const noexcept {
  return impl_->local_address;
}
std::uint16_t udp_port::local_rtp_port() const noexcept {
  return impl_->rtp_port;
}
std::uint16_t udp_port::local_rtcp_port() const noexcept {
  return static_cast<std::uint16_t>(impl_->rtp_port + 1);
}

void udp_port::start(std::shared_ptr<media_sink> sink, std::shared_ptr<clocked_stream> out) {
  if (!impl_) return;
  impl_->thread->run_or_post([i = impl_, s = std::move(sink), o = std::move(out)]() mutable {
    i->start_here(std::move(s), std::move(o));
  });
}

status udp_port::set_remote(std::string_view address, std::uint16_t rtp_port,
                            std::uint16_t rtcp_port) {
  if (!impl_) return make_error(errc::invalid_argument, "no port");
  error_code ec;
  const auto addr = net::ip::make_address(std::string(address), ec);
  if (ec)
    return make_error(errc::invalid_argument,
                      "remote media address '" + std::string(address) + "' is not an IP literal");
  if (addr.is_v6() != impl_->ipv6)
    return make_error(errc::invalid_argument, "remote media address '" + std::string(address) +
                                                  "' is not of the local address family");
  if (rtp_port == 0) return make_error(errc::invalid_argument, "remote RTP port 0");
  if (rtcp_port == 0) rtcp_port = static_cast<std::uint16_t>(rtp_port + 1);
  const udp::endpoint r(addr, rtp_port), c(addr, rtcp_port);
  const bool mux = rtcp_port == rtp_port;
  if (impl_->thread->on_thread()) {
    impl_->set_remote_here(r, c, mux);
  } else {
    impl_->thread->run_or_post([i = impl_, r, c, mux] { i->set_remote_here(r, c, mux); });
  }
  return unit;
}

void udp_port::set_media_timeout(duration timeout) {
  if (!impl_) return;
  impl_->thread->run_or_post([i = impl_, timeout] { i->set_timeout_here(timeout); });
}

void udp_port::close() {
  if (!impl_) return;
  if (impl_->thread->on_thread()) return impl_->close_here();
  impl_->thread->run_or_post([i = impl_] { i->close_here(); });
}

void udp_port::post(std::function<void()> fn) {
  if (!impl_ || !fn) return;
  impl_->thread->run_or_post(std::move(fn));
}

media_port& udp_port::media() noexcept {
  return *impl_;
}
media_clock& udp_port::clock() noexcept {
  return *impl_->thread->clock;
}

std::optional<endpoint> udp_port::rtp_target() const {
  std::lock_guard lock(impl_->target_mutex);
  return impl_->target;
}

port_stats udp_port::stats() const noexcept {
  const auto& i = *impl_;
  port_stats s;
  s.rtp_in = i.rtp_in.get();
  s.rtcp_in = i.rtcp_in.get();
  s.bytes_in = i.bytes_in.get();
  s.rejected = i.rejected.get();
  s.malformed = i.malformed.get();
  s.foreign = i.foreign.get();
  s.rtp_out = i.rtp_out.get();
  s.rtcp_out = i.rtcp_out.get();
  s.bytes_out = i.bytes_out.get();
  s.send_dropped = i.send_dropped.get();
  s.media_timeouts = i.timeouts.get();
  s.relatches = i.relatched.get();
  s.rtp_confirmed = i.confirmed.load(std::memory_order_relaxed);
  return s;
}

// --- engine --------------------------------------------------------------------------------

struct engine::impl {
  engine_options opts;
  std::optional<port_allocator> allocator;
  std::vector<std::shared_ptr<io_thread>> threads;
  std::mutex mutex; ///< start/stop
  std::atomic<bool> running{false};
  std::atomic<unsigned> realtime{0};
  std::atomic<unsigned> launched{0}; ///< threads that have set themselves up
  file_writer files; ///< its own thread, from construction to destruction
};

engine::engine(engine_options opts)
    : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
}

engine::~engine() {
  stop();
}

status engine::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->running) return unit;
  auto& o = impl_->opts;
  if (o.threads == 0) o.threads = 1;
  if (o.clock_phases == 0) o.clock_phases = 1;
  if (o.ptime <= duration::zero() || o.ptime % o.clock_phases != duration::zero())
    return make_error(errc::invalid_argument,
                      "media clock period must be positive and divide into clock_phases");
  auto alloc = port_allocator::create(o.host, o.ports, o.bind_attempts);
  if (!alloc) return std::move(alloc).err();
  impl_->allocator.emplace(std::move(alloc).value());

  impl_->realtime = 0;
  impl_->launched = 0;
  // Clocks start one period from now, shifted so that they do not all wake at once.
  const auto start = steady_clock::now() + o.ptime;
  const auto sub_period = o.ptime / o.clock_phases;
  impl_->threads.clear();
  for (unsigned i = 0; i < o.threads; ++i) {
    auto t = std::make_shared<io_thread>(i);
    const auto phase = sub_period * static_cast<long>(i) / static_cast<long>(o.threads);
    t->clock.reset(new media_clock(
        std::make_unique<media_clock::impl>(*t, start + phase, o.ptime, o.clock_phases)));
    impl_->threads.push_back(t);
  }
  for (auto& t : impl_->threads) {
    t->clock->impl_->arm();
    t->thread = std::thread([raw = t.get(), prio = o.realtime_priority, rt = &impl_->realtime,
                             up = &impl_->launched] {
      ::prctl(PR_SET_TIMERSLACK, transport_timer_slack_ns);
      const auto name = "gobi-rtp-" + std::to_string(raw->index);
      ::pthread_setname_np(::pthread_self(), name.c_str());
      if (prio > 0) {
        sched_param sp{};
        sp.sched_priority = prio;
        if (::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &sp) == 0) rt->fetch_add(1);
      }
      up->fetch_add(1);
      up->notify_all();
      raw->ioc.run();
    });
  }
  // Every thread has its name and scheduling before start() returns (realtime_threads()).
  for (auto n = impl_->launched.load(); n < o.threads; n = impl_->launched.load())
    impl_->launched.wait(n);
  impl_->running = true;
  return unit;
}

void engine::stop() {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->running) return;
  impl_->running = false;
  for (auto& t : impl_->threads) {
    net::post(t->ioc, [raw = t.get()] {
      raw->stopping = true;
      const auto ports = raw->ports; // close_here edits the list
      for (auto* p : ports)
        p->close_here();
      raw->clock->impl_->stop_here();
    });
    t->guard.reset();
  }
  for (auto& t : impl_->threads) {
    if (t->thread.joinable()) t->thread.join();
    {
      std::lock_guard post_lock(t->post_mutex);
      t->running = false;
    }
    // Whatever was posted between the thread's last handler and now runs here.
    t->ioc.restart();
    t->ioc.poll();
  }
  // The closed ports' recordings: written and closed before stop() returns.
  impl_->files.stop();
}

result<udp_port> engine::open_port(port_options opts) {
  if (!impl_->running) return make_error(errc::unavailable, "the RTP engine is not running");
  auto lease = impl_->allocator->allocate();
  if (!lease) return std::move(lease).err();
  auto& threads = impl_->threads;
  auto t = *std::min_element(threads.begin(), threads.end(), [](const auto& a, const auto& b) {
    return a->port_count.load() < b->port_count.load();
  });
  auto p = std::make_shared<udp_port::impl>(t, std::move(lease).value(), impl_->opts.host, opts,
                                            impl_->opts.poll_rtp);
  if (auto s = p->adopt_sockets(); !s) return std::move(s).err();
  t->port_count.fetch_add(1);
  t->run_or_post([p] { p->register_here(); });
  return udp_port(std::move(p));
}

unsigned engine::threads() const noexcept {
  return static_cast<unsigned>(impl_->threads.size());
}
media_clock& engine::clock(unsigned i) noexcept {
  return *impl_->threads.at(i)->clock;
}
std::size_t engine::open_ports() const noexcept {
  std::size_t n = 0;
  for (const auto& t : impl_->threads)
    n += t->port_count.load();
  return n;
}
const engine_options& engine::options() const noexcept {
  return impl_->opts;
}
file_writer& engine::files() noexcept {
  return impl_->files;
}
unsigned engine::realtime_threads() const noexcept {
  return impl_->realtime.load();
}

} // namespace gobi::rtp
