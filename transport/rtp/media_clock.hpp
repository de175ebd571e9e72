#pragma once

/// Shared media clocks: outbound audio of every call is paced by a few clocks (one per
/// transport thread) instead of a timer per call. Each clock ticks every ptime (20 ms) on
/// absolute deadlines and calls `on_tick` of every stream registered with it, once per tick, so
/// each call sends exactly one packet per tick.
///
/// The pure parts (`tick_schedule`, `stream_list`, `phased_streams`) take time as an argument
/// and are tested with a manual clock; `media_clock` drives them from an Asio timer on its
/// transport thread (engine.cpp).

#include "transport/rtp/media_port.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

namespace gobi::rtp {

/// One tick of a media clock, as handed to every stream.
struct media_tick {
  std::uint64_t index = 0; ///< ticks since the clock started; deadline = start + index * period
  time_point deadline;     ///< when this tick was due
  time_point now;          ///< when the clock woke up for it (>= deadline)
  /// This stream's ticks skipped just before this one because the clock woke up a period or
  /// more late. A stream keeps its RTP timestamp in step with real time by advancing it for
  /// these too (the receiver sees a loss, which its jitter buffer conceals, not a burst).
  std::uint32_t skipped = 0;
};

/// Absolute-deadline tick arithmetic: tick k is due at start + k * period, so rounding and
/// wake-up latency never accumulate into drift. A late wake-up runs the ticks it owes, except
/// those superseded by a newer due tick of the same stream: with `window` w (the number of
/// phases sharing the schedule, see phased_streams; 1 without phases), tick j is skipped when
/// tick j + w is due too. So no stream ever gets two ticks in one wake-up: never a burst.
///
///   wake at now, next tick k, d = due(now) = floor((now - start) / period):
///     now < deadline(k)  -> nothing (early), wait again
///     d < k + w          -> ticks k .. d, one per fire(), next d+1
///     d >= k + w         -> ticks k .. d-w skipped; ticks d-w+1 .. d, next d+1
class tick_schedule {
public:
  tick_schedule(time_point start, duration period, unsigned window = 1) noexcept
      : start_(start)
      , period_(period)
      , window_(window == 0 ? 1 : window) {}

  /// When the next tick is due.
  time_point deadline() const noexcept { return start_ + period_ * static_cast<long>(next_); }
  duration period() const noexcept { return period_; }

  /// The timer for deadline() went off at `now`: the next tick to run, if any. Call again with
  /// the same `now` until it answers nothing.
  std::optional<media_tick> fire(time_point now) noexcept;

  std::uint64_t ticks() const noexcept { return ticks_; }     ///< ticks run
  std::uint64_t skipped() const noexcept { return skipped_; } ///< ticks skipped, in total
  std::uint64_t late() const noexcept { return late_; }       ///< wake-ups that skipped ticks
  /// The latest wake-up relative to the tick it was for.
  duration max_lateness() const noexcept { return max_lateness_; }

private:
  time_point start_;
  duration period_;
  std::uint64_t window_;
  std::uint64_t next_ = 0;
  std::uint64_t ticks_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t late_ = 0;
  duration max_lateness_{};
};

/// Something a media clock ticks: a call's outbound stream (TTS or prompt -> encode ->
/// packetize -> SRTP -> send). `on_tick` runs on the clock's transport thread and should send
/// one packet through the call's port (same thread, so no locks), or nothing during silence
/// suppression or hold. It must not block: every other stream on the clock waits for it.
class clocked_stream {
public:
  virtual ~clocked_stream() = default;
  virtual void on_tick(const media_tick& tick) = 0;

private:
  friend class stream_list;
  static constexpr std::size_t no_slot = std::numeric_limits<std::size_t>::max();
  std::size_t slot_ = no_slot; ///< position in its stream_list (O(1) removal)
};

/// The streams of one clock, in a vector with each stream's slot stored in the stream: add and
/// remove are O(1) (swap with the last), a tick is one pass. Single-threaded (the clock's
/// thread). Streams may add or remove streams, themselves included, from on_tick: a stream
/// removed during a tick is not ticked afterwards (and is released after the tick), one added
/// during a tick is first ticked on the next one.
class stream_list {
public:
  stream_list() = default;
  stream_list(const stream_list&) = delete;
  stream_list& operator=(const stream_list&) = delete;
  ~stream_list();

  /// False if the stream is null or already in a list.
  bool add(std::shared_ptr<clocked_stream> s);
  /// False if the stream is not in this list.
  bool remove(const clocked_stream& s);
  bool contains(const clocked_stream& s) const noexcept;
  /// Calls on_tick of every stream in the list when the tick starts.
  void tick(const media_tick& t);
  std::size_t size() const noexcept { return streams_.size() - holes_; }
  /// Removes every stream (not during a tick).
  void clear();

private:
  void compact();

  std::vector<std::shared_ptr<clocked_stream>> streams_;
  std::vector<std::shared_ptr<clocked_stream>> removed_; ///< removed mid-tick, freed after it
  std::size_t holes_ = 0;                                ///< null slots left by those
  bool ticking_ = false;
};

/// The streams of one clock spread over `phases` equal slots of the period: with a period of
/// 20 ms and 4 phases, a quarter of the streams is ticked at +0, +5, +10 and +15 ms. Each stream
/// still gets one tick every 20 ms, but a wake-up serves a quarter of the streams, so the
/// spacing a stream sees no longer depends on how long all the others took before it, and the
/// packets leave in four small bursts instead of one big one.
///
/// Driven by a tick_schedule of period / phases: sub-tick j ticks phase j % phases with stream
/// tick index j / phases; `skipped` counts that phase's own missed ticks. New streams go to the
/// emptiest phase. Single-threaded, like stream_list.
class phased_streams {
public:
  explicit phased_streams(unsigned phases);

  unsigned phases() const noexcept { return static_cast<unsigned>(lists_.size()); }
  bool add(std::shared_ptr<clocked_stream> s);
  bool remove(const clocked_stream& s);
  /// Runs sub-tick `sub` (index, deadline, now as from the sub-period schedule).
  void tick(const media_tick& sub);
  std::size_t size() const noexcept;
  std::size_t size(unsigned phase) const noexcept { return lists_[phase].size(); }
  void clear();

private:
  std::vector<stream_list> lists_;
  std::vector<std::uint64_t> next_; ///< per phase: the stream tick index expected next
};

/// What a media clock has done so far. Read from any thread.
struct clock_stats {
  std::size_t streams = 0;
  unsigned phases = 1;
  std::uint64_t ticks = 0;    ///< wake-ups (phases per period)
  std::uint64_t skipped = 0;  ///< wake-ups skipped because one came a sub-period late
  std::uint64_t late = 0;     ///< wake-ups that skipped
  duration max_lateness{};    ///< worst wake-up delay after a deadline
  duration max_tick_work{};   ///< worst time spent in the on_tick calls of one wake-up
  duration total_tick_work{}; ///< summed over all wake-ups (mean = total / ticks)
};

class engine;

/// One shared media clock, bound to one transport thread of the `rtp::engine` that owns it.
///
/// add/remove are thread-safe and O(1): called on the clock's thread they act at once, from
/// another thread they are posted to it (a stream removed that way may still be ticked once
/// while remove() returns; the clock keeps it alive until it is out). Register a call's stream
/// with the clock of the thread that owns its port (`udp_port::start` does), so a tick sends
/// without locks.
class media_clock {
public:
  media_clock(const media_clock&) = delete;
  media_clock& operator=(const media_clock&) = delete;
  ~media_clock();

  void add(std::shared_ptr<clocked_stream> s);
  void remove(std::shared_ptr<clocked_stream> s);
  /// Whether the calling thread is this clock's thread.
  bool on_clock_thread() const noexcept;
  std::size_t streams() const noexcept;
  clock_stats stats() const noexcept;
  duration period() const noexcept;
  unsigned index() const noexcept; ///< which transport thread

  struct impl;

private:
  friend class engine;
  explicit media_clock(std::unique_ptr<impl> i) noexcept;
  std::unique_ptr<impl> impl_;
};

} // namespace gobi::rtp
