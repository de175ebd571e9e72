#include "transport/rtp/memory_pipe.hpp"

#include <algorithm>

namespace gobi::rtp {

// --- memory_port ---------------------------------------------------------------------------

void memory_port::start(std::shared_ptr<media_sink> sink) {
  if (closed_ || sink_) return;
  sink_ = std::move(sink);
  last_rtp_ = pipe_.now();
  timed_out_ = false;
}

void memory_port::set_media_timeout(duration timeout) {
  timeout_ = timeout;
  timed_out_ = false;
}

void memory_port::close() {
  closed_ = true;
  sink_.reset();
}

send_result memory_port::send_rtp(std::span<const std::byte> packet) {
  if (closed_) return send_result::closed;
  ++stats_.rtp_sent;
  return pipe_.send(side_, false, packet);
}

send_result memory_port::send_rtcp(std::span<const std::byte> packet) {
  if (closed_) return send_result::closed;
  ++stats_.rtcp_sent;
  return pipe_.send(side_, true, packet);
}

// --- memory_pipe ---------------------------------------------------------------------------

memory_pipe::memory_pipe(pipe_script a_to_b, pipe_script b_to_a, time_point start)
    : now_(start) {
  dirs_[0].script = std::move(a_to_b);
  dirs_[1].script = std::move(b_to_a);
  for (auto& d : dirs_)
    d.rng.seed(d.script.seed);
}

send_result memory_pipe::send(int from, bool rtcp, std::span<const std::byte> data) {
  auto& d = dirs_[from];
  const int to = 1 - from;
  std::vector<std::byte> copy(data.begin(), data.end());
  if (rtcp) {
    schedule(now_ + d.script.latency, to, true, std::move(copy));
    return send_result::sent;
  }
  const auto index = d.rtp_index++;
  const auto listed = [index](const std::vector<std::uint64_t>& v) {
    return std::find(v.begin(), v.end(), index) != v.end();
  };
  // Draw from the generator for every packet, so one scripted drop does not change the fate
  // of all the packets after it.
  const bool lost_by_chance = std::bernoulli_distribution(d.script.loss)(d.rng);
  duration extra{};
  if (d.script.jitter > duration::zero())
    extra =
        duration(std::uniform_int_distribution<duration::rep>(0, d.script.jitter.count())(d.rng));
  if (listed(d.script.drop) || lost_by_chance) {
    ++port(from).stats_.lost;
    return send_result::sent; // as on a real network: the sender does not know
  }
  if (listed(d.script.swap)) {
    if (d.held) schedule(now_ + d.script.latency + extra, to, false, std::move(*d.held));
    d.held = std::move(copy);
    return send_result::sent;
  }
  const auto due = now_ + d.script.latency + extra;
  schedule(due, to, false, std::move(copy));
  if (d.held) {
    schedule(due, to, false, std::move(*d.held)); // same time, right after
    d.held.reset();
  }
  return send_result::sent;
}

void memory_pipe::schedule(time_point due, int to, bool rtcp, std::vector<std::byte> data) {
  queue_.push_back(packet{due, order_++, to, rtcp, std::move(data)});
  std::push_heap(queue_.begin(), queue_.end(), later{});
}

std::optional<std::pair<time_point, int>> memory_pipe::next_timeout(time_point t) const {
  std::optional<std::pair<time_point, int>> best;
  for (int side = 0; side < 2; ++side) {
    const auto& p = side == 0 ? a_ : b_;
    if (!p.sink_ || p.timed_out_ || p.timeout_ <= duration::zero()) continue;
    const auto when = p.last_rtp_ + p.timeout_;
    if (when <= t && (!best || when < best->first)) best = std::pair(when, side);
  }
  return best;
}

void memory_pipe::advance_to(time_point t) {
  while (true) {
    const auto timeout = next_timeout(t);
    const auto next_due = queue_.empty() ? t + duration(1) : queue_.front().due;
    const bool have_packet = next_due <= t;
    if (!timeout && !have_packet) break;
    if (timeout && (!have_packet || timeout->first < next_due)) {
      now_ = std::max(now_, timeout->first);
      auto& p = port(timeout->second);
      p.timed_out_ = true;
      ++p.stats_.media_timeouts;
      auto sink = p.sink_; // the sink may close the port
      sink->on_media_timeout(now_ - p.last_rtp_);
      continue;
    }
    std::pop_heap(queue_.begin(), queue_.end(), later{});
    auto pk = std::move(queue_.back());
    queue_.pop_back();
    now_ = std::max(now_, pk.due);
    auto& p = port(pk.to);
    if (!p.sink_) continue; // nobody listening: gone
    auto sink = p.sink_;
    const auto v = pk.rtcp ? sink->on_rtcp(pk.data, now_) : sink->on_rtp(pk.data, now_);
    ++(pk.rtcp ? p.stats_.rtcp_received : p.stats_.rtp_received);
    ++(v == verdict::accepted ? p.stats_.accepted : p.stats_.rejected);
    if (!pk.rtcp && v == verdict::accepted) {
      p.last_rtp_ = now_;
      p.timed_out_ = false;
    }
  }
  now_ = std::max(now_, t);
}

} // namespace gobi::rtp
