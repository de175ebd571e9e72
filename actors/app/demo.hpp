#pragma once

/// `--demo`: seeds a demo tenant, user, agent, lead list, phone number and campaign on first
/// run (once: an existing demo user means it was done), so a fresh install has something to
/// look at and call.

#include "domain/phone.hpp"
#include "domain/result.hpp"
#include "storage/store.hpp"

namespace gobi::app {

inline constexpr const char* demo_email = "demo@gobi.local";
inline constexpr const char* demo_password = "password123";

/// Seeds when missing. Answers true when it seeded, false when the data was there.
result<bool> seed_demo(storage::store& s, const phone::normalizer& pn, millis now);

} // namespace gobi::app
