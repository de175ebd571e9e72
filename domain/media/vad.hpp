#pragma once

/// An energy voice-activity detector with an adaptive noise floor, hysteresis and hangover.
///
///           loud for start_frames                      quiet for hangover
///   quiet ------------------------> speaking ------------------------------> quiet
///     ^    (speech_started, at the     |  ^   (speech_ended, at the first      |
///     |     first loud frame)          |  |    quiet frame)                    |
///     +--------------------------------+  +-- a loud frame resets the count ---+
///
/// "Loud" is `start_margin_db` above the noise floor (and above `min_speech_dbfs`); "quiet"
/// is less than `stop_margin_db` above it, so a level between the two keeps the current
/// state (hysteresis). The floor follows the frame energy: down quickly, up slowly (more
/// slowly while speaking, so a long utterance does not become the floor), so thresholds track
/// the line's noise. Single-threaded; one per inbound chain.

#include "domain/media/defaults.hpp"
#include "domain/media/frame.hpp"

#include <chrono>

namespace gobi::media {

struct vad_options {
  double start_margin_db = defaults::vad_start_margin_db; ///< above the floor: speech
  double stop_margin_db = defaults::vad_stop_margin_db;   ///< below floor + this: quiet
  double min_speech_dbfs = defaults::vad_min_speech_dbfs; ///< never speech below this
  double min_floor_dbfs = defaults::vad_min_floor_dbfs;   ///< digital silence is not a floor
  double max_floor_dbfs = defaults::vad_max_floor_dbfs;   ///< louder "noise" reads as speech
  int start_frames = defaults::vad_start_frames;          ///< consecutive loud frames (20 ms each)
  std::chrono::milliseconds hangover{defaults::vad_hangover_ms}; ///< quiet this long to end
  /// Time constants of the floor: rising while quiet, rising while speaking, falling.
  std::chrono::milliseconds floor_rise{defaults::vad_floor_rise_ms};
  std::chrono::milliseconds floor_rise_speaking{defaults::vad_floor_rise_speaking_ms};
  std::chrono::milliseconds floor_fall{defaults::vad_floor_fall_ms};
};

enum class vad_transition : std::uint8_t { none, speech_started, speech_ended };

struct vad_result {
  vad_transition transition = vad_transition::none;
  media_time at{}; ///< when speech started or ended (a frame's time), for a transition
};

/// Energy of a block of samples in dB relative to full scale (-100 for digital silence).
double energy_dbfs(std::span<const std::int16_t> samples) noexcept;

class energy_vad {
public:
  explicit energy_vad(const vad_options& o = {});

  /// Feeds one frame (any rate); reports a transition when this frame completes one.
  vad_result process(const frame_view& f) noexcept;

  bool speaking() const noexcept { return speaking_; }
  double noise_floor_dbfs() const noexcept { return floor_db_; }
  double last_energy_dbfs() const noexcept { return last_db_; }
  void reset() noexcept;

private:
  vad_options opts_;
  double rise_alpha_, rise_speaking_alpha_, fall_alpha_;
  int hangover_frames_;
  bool have_floor_ = false;
  bool speaking_ = false;
  double floor_db_ = -60.0;
  double last_db_ = -100.0;
  int loud_run_ = 0;
  int quiet_run_ = 0;
  media_time loud_since_{};
  media_time quiet_since_{};
};

} // namespace gobi::media
