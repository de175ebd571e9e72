#pragma once

/// The call recorder: a stereo 16 kHz WAV with the caller on the left and the agent on the
/// right, streamed onto a `byte_sink`.
///
/// The two sides arrive as frames on their own timelines (the inbound chain's output, the
/// outbound chain's tap), each frame stamped with the media clock. A frame is placed where
/// its time says, relative to the first frame of either side; within half a frame of where
/// the side's audio ended it is simply appended (tick jitter must not click), a later one
/// leaves silence in between, an earlier one overwrites (and what of it was already written
/// is dropped). Samples are written once both sides have reached them, or
/// once one side is `max_skew` ahead (the other is then silent there), so the file stays in
/// sync and memory stays bounded (two rings of `max_skew`).
///
/// Owned by the call's media session; both inputs on one thread.

#include "domain/media/defaults.hpp"
#include "domain/media/frame.hpp"
#include "domain/media/wav.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gobi::media {

struct recorder_options {
  std::chrono::milliseconds max_skew{defaults::recorder_max_skew_ms};
};

class call_recorder {
public:
  call_recorder(byte_sink& sink, const recorder_options& o = {});
  call_recorder(const call_recorder&) = delete;
  call_recorder& operator=(const call_recorder&) = delete;

  /// Left channel: what the caller said (16 kHz frames).
  pcm_sink& caller() noexcept { return sides_[0]; }
  /// Right channel: what the agent said.
  pcm_sink& agent() noexcept { return sides_[1]; }

  /// Writes what is left (the shorter side padded with silence) and fixes the WAV header.
  bool close();
  bool ok() const noexcept { return wav_.ok(); }
  /// Stereo sample frames written so far.
  std::uint64_t frames_written() const noexcept { return static_cast<std::uint64_t>(flushed_); }
  /// Frames that did not fit the timeline (not 16 kHz, or behind what was written).
  std::uint64_t dropped_samples() const noexcept { return dropped_; }

private:
  class side final : public pcm_sink {
  public:
    side(call_recorder* rec, int index, const char* label)
        : rec_(rec)
        , index_(index)
        , label_(label) {}
    void on_frame(const frame_view& f) override { rec_->add(index_, f); }
    std::string name() const override { return label_; }

  private:
    call_recorder* rec_;
    int index_;
    const char* label_;
  };
  struct track {
    std::vector<std::int16_t> ring;
    bool started = false;
    std::int64_t end = 0; ///< absolute sample index after the last one written
  };

  void add(int index, const frame_view& f);
  void flush(std::int64_t upto);

  wav_writer wav_;
  std::int64_t skew_samples_;
  std::array<side, 2> sides_;
  std::array<track, 2> tracks_;
  bool have_origin_ = false;
  media_time origin_{};
  std::int64_t flushed_ = 0;
  std::uint64_t dropped_ = 0;
  bool closed_ = false;
};

} // namespace gobi::media
