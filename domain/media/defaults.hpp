#pragma once

/// The media path's tunables, with their units in their names: the media section of
/// domain/defaults.hpp, kept next to its module (move it there when the files settle). The
/// option structs of this folder take their defaults from here; the config loader may
/// override them per deployment.

#include <cstdint>

namespace gobi::defaults {

// --- jitter buffer (jitter_buffer.hpp) ----------------------------------------------------
inline constexpr int jitter_min_delay_ms = 20;
inline constexpr int jitter_max_delay_ms = 200;
inline constexpr int jitter_margin_ms = 10;          ///< added to the peak lateness
inline constexpr int jitter_peak_decay_ms = 4000;    ///< time constant of the peak's decay
inline constexpr int jitter_base_window_ms = 4000;   ///< window of the minimum transit
inline constexpr int jitter_conceal_limit_ms = 100;  ///< conceal this long, then silence
inline constexpr int jitter_discontinuity_ms = 1000; ///< transit jump = sender clock jump
inline constexpr int jitter_shrink_interval_ms = 200;
inline constexpr int jitter_stretch_interval_ms = 40;

// --- decoding and resampling ------------------------------------------------------------
inline constexpr int g711_conceal_fade_ms = 80; ///< repetition fades to silence over this
inline constexpr int resample_quality = 3;      ///< speexdsp 0-10
inline constexpr int opus_bitrate_bps = 24000;
inline constexpr int opus_complexity = 5; ///< measured: 5.0 ms CPU per call-second (bench_media)
inline constexpr bool opus_inband_fec = true;
inline constexpr int opus_expected_loss_percent = 5;

// --- VAD (vad.hpp) ----------------------------------------------------------------------
inline constexpr double vad_start_margin_db = 12.0;
inline constexpr double vad_stop_margin_db = 6.0;
inline constexpr double vad_min_speech_dbfs = -50.0;
inline constexpr double vad_min_floor_dbfs = -75.0;
inline constexpr double vad_max_floor_dbfs = -35.0;
inline constexpr int vad_start_frames = 2;
inline constexpr int vad_hangover_ms = 300;
inline constexpr int vad_floor_rise_ms = 1000;
inline constexpr int vad_floor_rise_speaking_ms = 4000;
inline constexpr int vad_floor_fall_ms = 40;

// --- DTMF (dtmf.hpp) ----------------------------------------------------------------------
inline constexpr int dtmf_duration_ms = 100;
inline constexpr std::uint8_t dtmf_volume_dbm0 = 10; ///< sent as -10 dBm0
inline constexpr int dtmf_end_repeats = 3;
inline constexpr int dtmf_gap_ticks = 3;         ///< 20 ms ticks of audio between digits
inline constexpr int dtmf_end_timeout_ms = 1000; ///< report a digit whose end was lost

// --- playout and recording ------------------------------------------------------------
inline constexpr int playout_queue_ms = 1000;    ///< 16 kHz audio queued ahead (32 KB)
inline constexpr int recorder_max_skew_ms = 200; ///< one side ahead by this: the other is silent

} // namespace gobi::defaults
