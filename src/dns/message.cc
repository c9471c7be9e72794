// The DNS answer reader and name helpers (see message.h). Compiled alone by
// the fuzz build (clang 14, C++20): no Asio, no <expected> here.
#include "dns/message.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "dns/wire.h"

namespace moat::dns {

namespace {

constexpr uint16_t kClassIn = 1;
constexpr int kMaxChainLinks = 16;
// A name of at most 255 octets has at most 127 labels, so a name that
// needs more pointers than that is a loop (or a message built to waste
// time); the length limit catches loops that do carry labels.
constexpr int kMaxPointers = 128;

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Presentation form of a wire-form name: lower-cased, escaped, no trailing
// dot, "" for the root.
std::string presentation(std::string_view wire_name) {
  std::string out;
  size_t i = 0;
  while (i < wire_name.size()) {
    const auto length = static_cast<uint8_t>(wire_name[i]);
    if (length == 0) break;
    if (!out.empty()) out.push_back('.');
    for (size_t k = i + 1; k <= i + length && k < wire_name.size(); ++k) {
      const auto byte = static_cast<uint8_t>(wire_name[k]);
      if (byte <= 0x20 || byte >= 0x7f || byte == '.' || byte == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>('0' + byte / 100));
        out.push_back(static_cast<char>('0' + byte / 10 % 10));
        out.push_back(static_cast<char>('0' + byte % 10));
      } else {
        out.push_back(lower(static_cast<char>(byte)));
      }
    }
    i += 1 + length;
  }
  return out;
}

// One resource record as it sits in the message, its rdata interpreted when
// the type is one moat uses.
struct Parsed {
  Record record;
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t soa_minimum = 0;  // SOA only
};

// Bounded reads from the message; every failure leaves a reason in error_.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> message) : m_(message) {}

  const std::string& error() const { return error_; }

  bool fail(const char* why) {
    if (error_.empty()) error_ = why;
    return false;
  }

  bool u16(size_t pos, uint16_t& value) {
    if (pos + 2 > m_.size()) return fail("truncated record");
    value = static_cast<uint16_t>(m_[pos] << 8 | m_[pos + 1]);
    return true;
  }

  bool u32(size_t pos, uint32_t& value) {
    if (pos + 4 > m_.size()) return fail("truncated record");
    value = static_cast<uint32_t>(m_[pos]) << 24 | static_cast<uint32_t>(m_[pos + 1]) << 16 |
            static_cast<uint32_t>(m_[pos + 2]) << 8 | static_cast<uint32_t>(m_[pos + 3]);
    return true;
  }

  // Reads the (possibly compressed) name at `pos` into its uncompressed
  // wire form; `end` is where the name's own encoding ends in the message.
  bool name(size_t pos, size_t& end, std::string& wire_name) {
    wire_name.clear();
    size_t p = pos;
    bool jumped = false;
    int pointers = 0;
    for (;;) {
      if (p >= m_.size()) return fail("name runs past the end");
      const uint8_t length = m_[p];
      if ((length & 0xC0) == 0xC0) {
        if (p + 1 >= m_.size()) return fail("name runs past the end");
        if (++pointers > kMaxPointers) return fail("compression loop");
        if (!jumped) end = p + 2;
        jumped = true;
        p = static_cast<size_t>(length & 0x3F) << 8 | m_[p + 1];
        continue;
      }
      if ((length & 0xC0) != 0) return fail("bad label type");
      if (length == 0) {
        wire_name.push_back('\0');
        if (!jumped) end = p + 1;
        return true;
      }
      if (p + 1 + length > m_.size()) return fail("name runs past the end");
      // +1: the root's zero octet still has to fit.
      if (wire_name.size() + 1 + length + 1 > wire::kMaxNameOctets) return fail("name too long");
      wire_name.push_back(static_cast<char>(length));
      wire_name.append(reinterpret_cast<const char*>(m_.data() + p + 1), length);
      p += 1 + length;
    }
  }

  // A name filling the rdata from `pos` to exactly `rdata_end`.
  bool rdata_name(size_t pos, size_t rdata_end, std::string& out) {
    std::string wire_name;
    size_t end = 0;
    if (!name(pos, end, wire_name)) return false;
    if (end != rdata_end)
      return fail(end > rdata_end ? "name runs past its rdata" : "trailing data in rdata");
    out = presentation(wire_name);
    return true;
  }

  // One resource record at `pos`; `pos` moves past it.
  bool record(size_t& pos, Parsed& out) {
    std::string owner;
    size_t end = 0;
    if (!name(pos, end, owner)) return false;
    uint16_t rdlength = 0;
    uint32_t ttl = 0;
    if (!u16(end, out.type) || !u16(end + 2, out.klass) || !u32(end + 4, ttl) ||
        !u16(end + 8, rdlength)) {
      return false;
    }
    const size_t rdata = end + 10;
    const size_t rdata_end = rdata + rdlength;
    if (rdata_end > m_.size()) return fail("truncated rdata");
    pos = rdata_end;

    Record& r = out.record;
    r.name = presentation(owner);
    // RFC 2181 8: a TTL with the top bit set is read as zero.
    r.ttl = ttl > static_cast<uint32_t>(std::numeric_limits<int32_t>::max()) ? 0 : ttl;
    r.type = static_cast<Type>(out.type);
    if (out.klass != kClassIn) return true;

    switch (static_cast<Type>(out.type)) {
      case Type::kA:
        if (rdlength != 4) return fail("A record with rdlength other than 4");
        std::memcpy(r.address.data(), m_.data() + rdata, 4);
        return true;
      case Type::kAAAA:
        if (rdlength != 16) return fail("AAAA record with rdlength other than 16");
        std::memcpy(r.address.data(), m_.data() + rdata, 16);
        return true;
      case Type::kNS:
      case Type::kCNAME:
      case Type::kPTR:
        return rdata_name(rdata, rdata_end, r.target);
      case Type::kMX:
        if (rdlength < 3) return fail("truncated MX record");
        if (!u16(rdata, r.preference)) return false;
        return rdata_name(rdata + 2, rdata_end, r.target);
      case Type::kTXT:
        for (size_t p = rdata; p < rdata_end;) {
          const uint8_t length = m_[p];
          if (p + 1 + length > rdata_end) return fail("TXT string runs past its rdata");
          r.strings.emplace_back(reinterpret_cast<const char*>(m_.data() + p + 1), length);
          r.text += r.strings.back();
          p += 1 + length;
        }
        return true;
      case Type::kSOA: {
        std::string mname, rname;
        size_t p = 0;
        if (!name(rdata, p, mname) || !name(p, p, rname)) return false;
        if (p + 20 != rdata_end) return fail("SOA record of the wrong length");
        r.target = presentation(mname);
        return u32(p + 16, out.soa_minimum);
      }
    }
    return true;  // a type moat does not use: skipped
  }

 private:
  std::span<const uint8_t> m_;
  std::string error_;
};

Answer temp_fail(std::string error) {
  Answer answer;
  answer.status = Status::kTempFail;
  answer.error = std::move(error);
  return answer;
}

Answer malformed(const std::string& why) {
  return temp_fail("malformed answer: " + why);
}

std::string rcode_name(unsigned rcode) {
  switch (rcode) {
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 4:
      return "NOTIMP";
    case 5:
      return "REFUSED";
  }
  return "RCODE " + std::to_string(rcode);
}

}  // namespace

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kA:
      return "A";
    case Type::kNS:
      return "NS";
    case Type::kCNAME:
      return "CNAME";
    case Type::kSOA:
      return "SOA";
    case Type::kPTR:
      return "PTR";
    case Type::kMX:
      return "MX";
    case Type::kTXT:
      return "TXT";
    case Type::kAAAA:
      return "AAAA";
  }
  return "TYPE?";
}

Answer read_answer(std::span<const uint8_t> message, std::string_view name, Type type) {
  std::string asked;
  if (!wire::append_name(name, asked)) return temp_fail("invalid query name");
  if (message.size() < 12) return malformed("truncated header");

  Reader in(message);
  uint16_t flags = 0, qdcount = 0, ancount = 0, nscount = 0;
  in.u16(2, flags);
  in.u16(4, qdcount);
  in.u16(6, ancount);
  in.u16(8, nscount);
  if ((flags & 0x8000) == 0) return malformed("not a response");
  if ((flags >> 11 & 0xF) != 0) return malformed("not a standard query response");
  const unsigned rcode = flags & 0xF;
  // Servers that fail often drop the question; the rcode says enough.
  if (rcode != 0 && rcode != 3) return temp_fail(rcode_name(rcode));

  if (qdcount != 1) return malformed("question count " + std::to_string(qdcount));
  std::string question;
  size_t pos = 12;
  uint16_t qtype = 0, qclass = 0;
  if (!in.name(12, pos, question) || !in.u16(pos, qtype) || !in.u16(pos + 2, qclass)) {
    return malformed(in.error());
  }
  pos += 4;
  if (!wire::same_name(question, asked) || qtype != static_cast<uint16_t>(type) ||
      qclass != kClassIn) {
    return malformed("question does not match");
  }

  // The count is the sender's word; a record takes at least 11 octets, so
  // the message's size bounds what is worth reserving.
  std::vector<Parsed> answers;
  answers.reserve(std::min<size_t>(ancount, message.size() / 11));
  for (uint16_t i = 0; i < ancount; ++i) {
    if (!in.record(pos, answers.emplace_back())) return malformed(in.error());
  }
  std::optional<Parsed> soa;
  for (uint16_t i = 0; i < nscount; ++i) {
    Parsed parsed;
    if (!in.record(pos, parsed)) return malformed(in.error());
    if (!soa && parsed.klass == kClassIn && parsed.type == static_cast<uint16_t>(Type::kSOA)) {
      soa = std::move(parsed);
    }
  }
  // The additional section is not needed: moat asks again for what it uses.

  // Walk the CNAME chain from the question name to the name that owns the
  // records (unless CNAMEs themselves were asked for).
  std::string current = presentation(question);
  uint32_t ttl = std::numeric_limits<uint32_t>::max();
  int links = 0;
  std::vector<std::string> visited{current};
  while (type != Type::kCNAME) {
    auto cname = std::find_if(answers.begin(), answers.end(), [&](const Parsed& p) {
      return p.klass == kClassIn && p.type == static_cast<uint16_t>(Type::kCNAME) &&
             p.record.name == current;
    });
    if (cname == answers.end()) break;
    if (++links > kMaxChainLinks) return temp_fail("CNAME chain too long");
    if (std::find(visited.begin(), visited.end(), cname->record.target) != visited.end()) {
      return temp_fail("CNAME loop");
    }
    ttl = std::min(ttl, cname->record.ttl);
    current = cname->record.target;
    visited.push_back(current);
  }

  Answer answer;
  answer.canonical_name = current;
  if (rcode == 0) {
    for (Parsed& parsed : answers) {
      if (parsed.klass == kClassIn && parsed.type == static_cast<uint16_t>(type) &&
          parsed.record.name == current) {
        ttl = std::min(ttl, parsed.record.ttl);
        answer.records.push_back(std::move(parsed.record));
      }
    }
    if (!answer.records.empty()) {
      answer.status = Status::kOk;
      answer.ttl = ttl;
      return answer;
    }
  }

  // Negative: RFC 2308 5, the SOA's TTL bounded by its MINIMUM field.
  answer.status = rcode == 3 ? Status::kNxDomain : Status::kNoData;
  if (soa) {
    answer.ttl = std::min({ttl, soa->record.ttl, soa->soa_minimum});
  } else if (rcode == 0 && links > 0) {
    // The chain stops at a target this message says nothing about (an
    // authoritative server does not chase targets outside its zones): the
    // resolver asks for the target. A recursive server's real NODATA for
    // the target carries the target zone's SOA, so it is taken as final.
    answer.follow_cname = current;
    answer.ttl = ttl;
  } else {
    answer.ttl = 0;
  }
  return answer;
}

std::string reversed_address(std::string_view address) {
  const std::string text(address);
  uint8_t bytes[16];
  std::string out;
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    for (int i = 3; i >= 0; --i) {
      out += std::to_string(bytes[i]);
      if (i > 0) out.push_back('.');
    }
    return out;
  }
  // IPv4-mapped addresses (::ffff:192.0.2.1) stay IPv6: they are reversed
  // into ip6.arpa nibbles like any other IPv6 address. Callers that want
  // the IPv4 view unmap first.
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
      out.push_back(kHex[bytes[i] & 0xF]);
      out.push_back('.');
      out.push_back(kHex[bytes[i] >> 4]);
      if (i > 0) out.push_back('.');
    }
  }
  return out;
}

std::string reverse_name(std::string_view address) {
  std::string reversed = reversed_address(address);
  if (reversed.empty()) return reversed;
  const bool v6 = address.find(':') != std::string_view::npos;
  return reversed + (v6 ? ".ip6.arpa" : ".in-addr.arpa");
}

std::string canonical(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) out.push_back(lower(c));
  if (!out.empty() && out.back() == '.') {
    // "a\." ends in an escaped dot that belongs to the label.
    size_t backslashes = 0;
    for (size_t i = out.size() - 1; i > 0 && out[i - 1] == '\\'; --i) ++backslashes;
    if (backslashes % 2 == 0) out.pop_back();
  }
  return out;
}

std::string address_text(const Record& record) {
  char text[INET6_ADDRSTRLEN] = {};
  if (record.type == Type::kA) {
    if (inet_ntop(AF_INET, record.address.data(), text, sizeof text)) return text;
  } else if (record.type == Type::kAAAA) {
    if (inet_ntop(AF_INET6, record.address.data(), text, sizeof text)) return text;
  }
  return {};
}

namespace wire {

bool append_name(std::string_view name, std::string& out) {
  if (name.empty() || name == ".") {
    out.push_back('\0');
    return true;
  }
  std::string encoded;
  std::string label;
  auto flush = [&] {
    encoded.push_back(static_cast<char>(label.size()));
    encoded += label;
    label.clear();
  };
  size_t i = 0;
  while (i < name.size()) {
    const char c = name[i];
    if (c == '.') {
      if (label.empty()) return false;
      flush();
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= name.size()) return false;
      const char next = name[i + 1];
      if (next >= '0' && next <= '9') {
        if (i + 3 >= name.size()) return false;
        int value = 0;
        for (size_t k = i + 1; k <= i + 3; ++k) {
          if (name[k] < '0' || name[k] > '9') return false;
          value = value * 10 + (name[k] - '0');
        }
        if (value > 255) return false;
        label.push_back(static_cast<char>(value));
        i += 4;
      } else {
        label.push_back(next);
        i += 2;
      }
    } else {
      label.push_back(c);
      ++i;
    }
    if (label.size() > kMaxLabelOctets) return false;
  }
  if (!label.empty()) flush();
  encoded.push_back('\0');
  if (encoded.size() > kMaxNameOctets) return false;
  out += encoded;
  return true;
}

std::string query(uint16_t id, std::string_view name, uint16_t type) {
  std::string packet;
  const uint8_t header[12] = {
      static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  packet.append(reinterpret_cast<const char*>(header), sizeof header);
  if (!append_name(name, packet)) return {};
  packet.push_back(static_cast<char>(type >> 8));
  packet.push_back(static_cast<char>(type & 0xFF));
  packet.push_back(0);
  packet.push_back(static_cast<char>(kClassIn));
  return packet;
}

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace wire

}  // namespace moat::dns
