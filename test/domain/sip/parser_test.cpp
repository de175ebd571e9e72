#include "domain/sip/builder.hpp"
#include "domain/sip/parser.hpp"
#include "domain/sip/text.hpp"

#include "sip_test_util.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace gobi::sip;

namespace {

const std::filesystem::path torture_dir = std::filesystem::path(GOBI_TEST_DATA) / "sip/rfc4475";

message parse_ok(std::string_view bytes, framing how = framing::datagram) {
  auto r = parse_message(bytes, how);
  if (!r) FAIL(r.err().error.to_string());
  return std::move(r).value();
}

std::string crlf(std::string_view lf_text) {
  std::string out;
  for (char c : lf_text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

const std::string options_msg =
    crlf("OPTIONS sip:+15551234567@gobi.example.com;user=phone SIP/2.0\n"
         "Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK776asdhds;rport\n"
         "Max-Forwards: 70\n"
         "To: <sip:+15551234567@gobi.example.com>\n"
         "From: \"Alice\" <sip:alice@example.com>;tag=1928301774\n"
         "Call-ID: a84b4c76e66710@pc33.example.com\n"
         "CSeq: 63104 OPTIONS\n"
         "Contact: <sip:alice@192.0.2.1:5062>\n"
         "Content-Length: 0\n"
         "\n");

} // namespace

TEST_CASE("sip parser: RFC 4475 torture messages get their verdicts") {
  const auto files = sip_test::files_in(torture_dir, ".sip");
  REQUIRE(files.size() >= 40);
  for (const auto& f : files) {
    const auto g = sip_test::load_golden(f);
    CAPTURE(g.name);
    REQUIRE(!g.expect.empty());
    auto r = parse_message(g.bytes, framing::datagram);
    if (g.expect == "valid") {
      if (!r) FAIL(g.name << ": " << r.err().error.to_string());
      continue;
    }
    REQUIRE_FALSE(r.ok());
    const auto& e = r.err();
    CAPTURE(e.error.to_string());
    if (g.expect.rfind("drop", 0) == 0) {
      CHECK(e.error.response_status == 0);
      CHECK_FALSE(e.partial.has_value());
    } else {
      CHECK(std::to_string(e.error.response_status) == g.expect);
      REQUIRE(e.partial.has_value());
      CHECK(e.partial->header("Via") != nullptr);
      CHECK(e.partial->cseq().ok());
      CHECK(e.partial->call_id().ok());
    }
  }
}

TEST_CASE("sip parser: the tortuous INVITE reads right") {
  const auto m = parse_ok(sip_test::load_golden(torture_dir / "wsinv.sip").bytes);
  CHECK(m.method == "INVITE");
  CHECK(m.request_uri.host == "chair-dnrc.example.com");
  CHECK(m.request_uri.has_param("unknownparam"));
  CHECK(m.to()->tag() == "1918181833n");
  CHECK(m.from()->display_name == "J Rosenberg \\\"");
  CHECK(m.from()->tag() == "98asjd8");
  CHECK(m.max_forwards() == 68);
  CHECK(m.cseq()->number == 9);
  CHECK(m.cseq()->method == "INVITE");
  const auto vias = m.vias();
  REQUIRE(vias.ok());
  REQUIRE(vias->size() == 3);
  CHECK((*vias)[0].transport == "UDP");
  CHECK((*vias)[0].host == "192.0.2.2");
  CHECK((*vias)[1].transport == "TCP");
  CHECK((*vias)[1].branch() == "z9hG4bK9ikj8");
  CHECK((*vias)[2].branch() == "z9hG4bK30239");
  CHECK(*m.header("NewFangledHeader") == "newfangled value continued newfangled value");
  CHECK(*m.header("Subject") == "");
  const auto contacts = m.contacts();
  REQUIRE(contacts->contacts.size() == 1);
  CHECK(contacts->contacts[0].display_name == "Quoted string \"\"");
  CHECK(contacts->contacts[0].params.size() == 3);
  CHECK(m.body.size() == 150);
  CHECK(m.body.substr(0, 5) == "v=0\r\n");
}

TEST_CASE("sip parser: odd but valid characters, escapes and user parts") {
  const auto intmeth = parse_ok(sip_test::load_golden(torture_dir / "intmeth.sip").bytes);
  CHECK(intmeth.method == "!interesting-Method0123456789_*+`.%indeed'~");
  CHECK(intmeth.request_uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  CHECK(intmeth.request_uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  CHECK(intmeth.to()->display_name == std::string("BEL:\x07 NUL:\0 DEL:\x7f", 17));

  const auto esc = parse_ok(sip_test::load_golden(torture_dir / "esc01.sip").bytes);
  CHECK(esc.request_uri.user_unescaped() == "sips:user@example.com");
  CHECK(esc.to()->uri.user_unescaped() == "user");

  const auto semi = parse_ok(sip_test::load_golden(torture_dir / "semiuri.sip").bytes);
  CHECK(semi.request_uri.user == "user;par=u%40example.net");
  CHECK(semi.request_uri.host == "example.com");
  CHECK(semi.header_count("Accept") == 1);

  const auto esc02 = parse_ok(sip_test::load_golden(torture_dir / "esc02.sip").bytes);
  CHECK(esc02.header_count("Contact") == 2); // C%6Fntact is another header
  CHECK(esc02.header_count("C%6Fntact") == 1);

  const auto unk = parse_ok(sip_test::load_golden(torture_dir / "unkscm.sip").bytes);
  CHECK(unk.request_uri.scheme == uri_scheme::other);
  CHECK(unk.request_uri.to_string() == "nobodyknowsthisscheme:totallyopaquecontent");
}

TEST_CASE("sip parser: a datagram's bytes after Content-Length are discarded") {
  const auto m = parse_ok(sip_test::load_golden(torture_dir / "dblreq.sip").bytes);
  CHECK(m.method == "REGISTER");
  CHECK(m.body.empty());
}

TEST_CASE("sip parser: responses, empty and unusual reason phrases") {
  const auto m = parse_ok(sip_test::load_golden(torture_dir / "noreason.sip").bytes);
  CHECK(m.status == 100);
  CHECK(m.reason.empty());
  const auto u = parse_ok(sip_test::load_golden(torture_dir / "unreason.sip").bytes);
  CHECK(u.status == 200);
  CHECK(u.reason.substr(0, 14) == "= 2**3 * 5**2 ");
  CHECK(u.transaction_method() == "INVITE");
}

TEST_CASE("sip parser: compact forms, repeated and comma-separated headers") {
  const auto m = parse_ok(crlf("INVITE sip:bob@example.com SIP/2.0\n"
                               "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP "
                               "b.example.com:5070;branch=z9hG4bK2;received=192.0.2.9;rport=6000\n"
                               "Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK3\n"
                               "f: Alice <sip:alice@example.com>;tag=a1\n"
                               "t: sip:bob@example.com\n"
                               "i: call-1\n"
                               "CSeq: 1 INVITE\n"
                               "m: <sip:alice@192.0.2.1>;expires=60, \"Second, one\" <sip:x@y>\n"
                               "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"
                               "Record-Route: <sip:rr.example.com;lr>\n"
                               "k: 100rel, timer\n"
                               "c: application/sdp\n"
                               "l: 4\n"
                               "\n"
                               "v=0\n"));
  const auto vias = m.vias();
  REQUIRE(vias->size() == 3);
  CHECK((*vias)[1].sent_by() == "b.example.com:5070");
  CHECK((*vias)[1].received() == "192.0.2.9");
  CHECK((*vias)[1].rport() == 6000);
  CHECK((*vias)[0].rport() == std::nullopt);
  CHECK(m.from()->display_name == "Alice");
  CHECK(m.to()->tag().empty());
  CHECK(*m.call_id() == "call-1");
  REQUIRE(m.contacts()->contacts.size() == 2);
  CHECK(m.contacts()->contacts[1].display_name == "Second, one");
  CHECK(m.routes()->size() == 2);
  CHECK(m.routes()->at(0).uri.has_param("lr"));
  CHECK(m.record_routes()->size() == 1);
  CHECK(m.header_values("Supported") == std::vector<std::string>{"100rel", "timer"});
  CHECK(*m.header("content-type") == "application/sdp");
  CHECK(m.body == "v=0\r");
}

TEST_CASE("sip parser: Contact star, tel URIs, Max-Forwards") {
  const auto m = parse_ok(crlf("REGISTER sip:example.com SIP/2.0\n"
                               "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\n"
                               "From: <tel:+1-201-555-0123;phone-context=example.com>;tag=1\n"
                               "To: <sip:+12015550123@example.com;user=phone>\n"
                               "Call-ID: x\n"
                               "CSeq: 2 REGISTER\n"
                               "Contact: *\n"
                               "Expires: 0\n"
                               "Content-Length: 0\n\n"));
  CHECK(m.contacts()->wildcard);
  const auto from = m.from();
  CHECK(from->uri.scheme == uri_scheme::tel);
  CHECK(from->uri.user == "+1-201-555-0123");
  CHECK(from->uri.dial_string() == "+12015550123");
  CHECK(from->uri.param("phone-context") == "example.com");
  CHECK(m.to()->uri.dial_string() == "+12015550123");
  CHECK(m.max_forwards() == std::nullopt);
}

TEST_CASE("sip parser: serialise and parse back") {
  const auto m = parse_ok(options_msg);
  CHECK(m.request_uri.user == "+15551234567");
  CHECK(m.request_uri.param("user") == "phone");
  const auto wire = m.to_string();
  const auto again = parse_ok(wire);
  CHECK(again.headers == m.headers);
  CHECK(again.to_string() == wire);
  CHECK(wire.find("Content-Length: 0\r\n\r\n") != std::string::npos);
}

TEST_CASE("sip parser: wrong Content-Length") {
  auto bigger = options_msg;
  bigger.replace(bigger.find("Content-Length: 0"), 17, "Content-Length: 10");
  auto r = parse_message(bigger);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().error.code == errc::bad_content_length);
  CHECK(r.err().error.response_status == 400);
  REQUIRE(r.err().partial);
  CHECK(*r.err().partial->call_id() == "a84b4c76e66710@pc33.example.com");

  // On a stream the frame must hold exactly the body.
  auto extra = options_msg + "junk";
  CHECK(parse_message(extra, framing::datagram).ok());
  CHECK_FALSE(parse_message(extra, framing::stream).ok());

  auto no_length = options_msg;
  no_length.erase(no_length.find("Content-Length: 0\r\n"), 19);
  CHECK(parse_message(no_length, framing::datagram).ok());
  auto s = parse_message(no_length, framing::stream);
  REQUIRE_FALSE(s.ok());
  CHECK(s.err().error.response_status == 400);

  auto junk = options_msg;
  junk.replace(junk.find("Content-Length: 0"), 17, "Content-Length: 0x10");
  CHECK(parse_message(junk).err().error.code == errc::bad_content_length);
}

TEST_CASE("sip parser: limits are errors, never truncation") {
  auto huge = options_msg;
  const std::string big(100000, 'a');
  huge.insert(huge.find("Content-Length"), "X-Huge: " + big + "\r\n");
  auto r = parse_message(huge);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().error.code == errc::message_too_large);
  CHECK(r.err().error.response_status == 513);
  REQUIRE(r.err().partial);

  parse_limits big_limit;
  big_limit.max_message_bytes = 1 << 20;
  auto ok = parse_message(huge, framing::datagram, big_limit);
  REQUIRE(ok.ok());
  CHECK(ok->header("X-Huge")->size() == big.size());

  auto many = options_msg;
  std::string extra;
  for (int i = 0; i < 300; ++i)
    extra += "X-H" + std::to_string(i) + ": v\r\n";
  many.insert(many.find("Content-Length"), extra);
  auto t = parse_message(many);
  REQUIRE_FALSE(t.ok());
  CHECK(t.err().error.code == errc::too_many_headers);
  CHECK(t.err().error.line > 0);
}

TEST_CASE("sip parser: garbage and random bytes never crash and are dropped") {
  for (std::string_view g : {"", "\r\n\r\n", "hello", "SIP/2.0", "INVITE", "INVITE sip:a@b SIP/2.0",
                             "\x00\x01\x02", "SIP/2.0 200 OK\r\n\r\n", ":::\r\n\r\n"}) {
    auto r = parse_message(g);
    CHECK_FALSE(r.ok());
    CHECK(r.err().error.response_status == 0);
  }
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(static_cast<std::size_t>(rng() % 600), '\0');
    for (auto& c : bytes)
      c = static_cast<char>(byte(rng));
    if (round % 2 == 0) bytes = options_msg.substr(0, rng() % options_msg.size()) + bytes;
    auto r = parse_message(bytes);
    if (!r) CHECK(r.err().error.code != errc::ok);
  }
  // Mutations of a valid message: flip bytes one at a time.
  for (std::size_t i = 0; i < options_msg.size(); ++i) {
    auto m = options_msg;
    m[i] = static_cast<char>(m[i] ^ 0x5a);
    auto r = parse_message(m);
    if (r) CHECK(r->to_string().size() > 0);
  }
}

TEST_CASE("sip parser: error values name the line") {
  auto bad = options_msg;
  bad.replace(bad.find("Max-Forwards: 70"), 16, "Max-Forwards: 7x");
  auto r = parse_message(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().error.line == 3);
  CHECK(r.err().error.to_string().find("Max-Forwards") != std::string::npos);
}

TEST_CASE("sip stream framer: boundaries, keep-alives, split reads") {
  stream_framer fr;
  const auto two = options_msg + "\r\n\r\n" + options_msg;
  // feed one byte at a time
  std::vector<stream_framer::kind> seen;
  for (char c : two) {
    fr.append(std::string_view(&c, 1));
    for (auto f = fr.next(); f.what != stream_framer::kind::need_more; f = fr.next()) {
      seen.push_back(f.what);
      if (f.what == stream_framer::kind::message)
        CHECK(parse_message(f.bytes, framing::stream).ok());
    }
  }
  CHECK(seen == std::vector<stream_framer::kind>{stream_framer::kind::message,
                                                 stream_framer::kind::ping,
                                                 stream_framer::kind::message});
  CHECK(fr.buffered() == 0);

  // body arrives later
  auto with_body = options_msg;
  with_body.replace(with_body.find("Content-Length: 0"), 17, "Content-Length: 5");
  stream_framer f2;
  f2.append(with_body);
  CHECK(f2.next().what == stream_framer::kind::need_more);
  f2.append("hel");
  CHECK(f2.next().what == stream_framer::kind::need_more);
  f2.append("lo");
  const auto got = f2.next();
  REQUIRE(got.what == stream_framer::kind::message);
  CHECK(parse_message(got.bytes, framing::stream)->body == "hello");
  f2.append("\r\n"); // a lone CRLF pong is skipped
  CHECK(f2.next().what == stream_framer::kind::need_more);
}

TEST_CASE("sip stream framer: broken streams are errors") {
  parse_limits small;
  small.max_message_bytes = 1000;
  stream_framer fr(small);
  fr.append(std::string(2000, 'x'));
  CHECK(fr.next().what == stream_framer::kind::error);
  CHECK(fr.next().what == stream_framer::kind::error); // stays broken

  stream_framer f2;
  auto bad = options_msg;
  bad.replace(bad.find("Content-Length: 0"), 17, "Content-Length: -1");
  f2.append(bad);
  const auto e = f2.next();
  CHECK(e.what == stream_framer::kind::error);
  CHECK(e.error.code == errc::bad_content_length);

  stream_framer f3(small);
  auto huge = options_msg;
  huge.replace(huge.find("Content-Length: 0"), 17, "Content-Length: 999999");
  f3.append(huge);
  CHECK(f3.next().what == stream_framer::kind::error);
}

TEST_CASE("sip parser: a 400 never echoes raw control characters (fuzz finding)") {
  // found by sip_fuzz: a broken request line plus a From with a raw control byte inside
  // its quoted display name produced a 400 that did not parse
  const std::string msg = crlf("INVITE sip:bob@example.com\n"
                               "To: <sip:bob@example.com>\n"
                               "From: \"J Rosenb\x06\" <sip:jd@example.com>;tag=1\n"
                               "Call-ID: x1\n"
                               "CSeq: 1 INVITE\n"
                               "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\n"
                               "Content-Length: 0\n\n");
  auto r = parse_message(msg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().error.response_status == 0);
  CHECK_FALSE(r.err().partial);
  auto clean = msg;
  clean.replace(clean.find('\x06'), 1, "o");
  auto r2 = parse_message(clean);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.err().error.response_status == 400);
}

TEST_CASE("sip parser: inputs found by the fuzzer keep their properties") {
  // test/data/sip/fuzz holds raw inputs that once broke a sip_fuzz property
  const auto dir = std::filesystem::path(GOBI_TEST_DATA) / "sip/fuzz";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    CAPTURE(e.path().filename().string());
    const auto bytes = sip_test::read_file(e.path());
    for (auto how : {framing::datagram, framing::stream}) {
      auto r = parse_message(bytes, how);
      if (r) {
        auto again = parse_message(r->to_string(), framing::stream);
        REQUIRE(again.ok());
        CHECK(again->headers == r->headers);
      } else if (r.err().error.answerable()) {
        const auto resp = make_error_response(r.err(), "t");
        REQUIRE(resp);
        CHECK(parse_message(resp->to_string()).ok());
      }
    }
  }
}
