// The DNS answer reader against hand-built messages: what it keeps, how it
// follows CNAMEs, the negative TTL, and what it refuses as malformed.
#include "dns/message.h"

#include <gtest/gtest.h>

#include <string>

#include "dns/wire.h"
#include "packet.h"

namespace moat::dns {
namespace {

using testing::a_rdata;
using testing::aaaa_rdata;
using testing::Bytes;
using testing::labels;
using testing::Message;
using testing::mx_rdata;
using testing::Rr;
using testing::soa_rdata;
using testing::txt_rdata;
using testing::wire;

constexpr uint16_t kA = 1, kNS = 2, kCNAME = 5, kSOA = 6, kPTR = 12, kMX = 15, kTXT = 16,
                   kAAAA = 28;

Message question(std::string_view name, uint16_t type) {
  Message m;
  m.question = wire(name);
  m.qtype = type;
  return m;
}

Answer read(const Message& m, std::string_view name, Type type) {
  const Bytes bytes = m.bytes();
  return read_answer(bytes, name, type);
}

TEST(DnsMessage, ReadsARecords) {
  Message m = question("mx.example", kA);
  m.answers.push_back(Rr{wire("mx.example"), kA, 300, a_rdata("192.0.2.1")});
  m.answers.push_back(Rr{wire("MX.Example"), kA, 120, a_rdata("192.0.2.2")});
  const Answer answer = read(m, "mx.example.", Type::kA);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  ASSERT_EQ(answer.records.size(), 2u);
  EXPECT_EQ(address_text(answer.records[0]), "192.0.2.1");
  EXPECT_EQ(address_text(answer.records[1]), "192.0.2.2");
  EXPECT_EQ(answer.records[1].name, "mx.example");
  EXPECT_EQ(answer.records[0].ttl, 300u);
  EXPECT_EQ(answer.ttl, 120u);
  EXPECT_EQ(answer.canonical_name, "mx.example");
  EXPECT_TRUE(answer.follow_cname.empty());
}

TEST(DnsMessage, ReadsAaaaRecords) {
  Message m = question("v6.example", kAAAA);
  m.answers.push_back(Rr{wire("v6.example"), kAAAA, 60, aaaa_rdata("2001:db8::1")});
  const Answer answer = read(m, "v6.example", Type::kAAAA);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  ASSERT_EQ(answer.records.size(), 1u);
  EXPECT_EQ(answer.records[0].type, Type::kAAAA);
  EXPECT_EQ(address_text(answer.records[0]), "2001:db8::1");
}

TEST(DnsMessage, ReadsMxRecordsAndNullMx) {
  Message m = question("example", kMX);
  m.answers.push_back(Rr{wire("example"), kMX, 300, mx_rdata(10, "Mail.Example")});
  m.answers.push_back(Rr{wire("example"), kMX, 300, mx_rdata(20, "backup.example")});
  Answer answer = read(m, "example", Type::kMX);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  ASSERT_EQ(answer.records.size(), 2u);
  EXPECT_EQ(answer.records[0].preference, 10);
  EXPECT_EQ(answer.records[0].target, "mail.example");
  EXPECT_EQ(answer.records[1].preference, 20);

  Message null_mx = question("nomail.example", kMX);
  null_mx.answers.push_back(Rr{wire("nomail.example"), kMX, 300, mx_rdata(0, "")});
  answer = read(null_mx, "nomail.example", Type::kMX);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  ASSERT_EQ(answer.records.size(), 1u);
  EXPECT_EQ(answer.records[0].preference, 0);
  EXPECT_EQ(answer.records[0].target, "");
}

TEST(DnsMessage, ReadsTxtStringsApartAndJoined) {
  Message m = question("example", kTXT);
  m.answers.push_back(
      Rr{wire("example"), kTXT, 300, txt_rdata({"v=spf1 ip4:192.0.2.0/24", " -all", ""})});
  const Answer answer = read(m, "example", Type::kTXT);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  ASSERT_EQ(answer.records.size(), 1u);
  EXPECT_EQ(answer.records[0].text, "v=spf1 ip4:192.0.2.0/24 -all");
  ASSERT_EQ(answer.records[0].strings.size(), 3u);
  EXPECT_EQ(answer.records[0].strings[1], " -all");
  EXPECT_EQ(answer.records[0].strings[2], "");
}

TEST(DnsMessage, ReadsPtrAndNsRecords) {
  Message ptr = question("1.2.0.192.in-addr.arpa", kPTR);
  ptr.answers.push_back(Rr{wire("1.2.0.192.in-addr.arpa"), kPTR, 300, wire("Host.Example")});
  Answer answer = read(ptr, "1.2.0.192.in-addr.arpa", Type::kPTR);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  EXPECT_EQ(answer.records.at(0).target, "host.example");

  Message ns = question("example", kNS);
  ns.answers.push_back(Rr{wire("example"), kNS, 300, wire("ns1.example")});
  ns.answers.push_back(Rr{wire("example"), kNS, 300, wire("ns2.example")});
  answer = read(ns, "example", Type::kNS);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  ASSERT_EQ(answer.records.size(), 2u);
  EXPECT_EQ(answer.records[1].target, "ns2.example");
}

TEST(DnsMessage, FollowsCnameChainInsideTheMessage) {
  Message m = question("www.example", kA);
  // Out of order on purpose: the chain is followed by name, not position.
  m.answers.push_back(Rr{wire("c.example"), kA, 200, a_rdata("192.0.2.7")});
  m.answers.push_back(Rr{wire("www.example"), kCNAME, 50, wire("b.example")});
  m.answers.push_back(Rr{wire("b.example"), kCNAME, 100, wire("C.example")});
  m.answers.push_back(Rr{wire("www.example"), kA, 10, a_rdata("192.0.2.99")});  // shadowed
  const Answer answer = read(m, "www.example", Type::kA);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  ASSERT_EQ(answer.records.size(), 1u);
  EXPECT_EQ(address_text(answer.records[0]), "192.0.2.7");
  EXPECT_EQ(answer.canonical_name, "c.example");
  EXPECT_EQ(answer.ttl, 50u);  // the CNAMEs count
}

TEST(DnsMessage, AskingForCnameDoesNotFollowIt) {
  Message m = question("www.example", kCNAME);
  m.answers.push_back(Rr{wire("www.example"), kCNAME, 50, wire("b.example")});
  const Answer answer = read(m, "www.example", Type::kCNAME);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  EXPECT_EQ(answer.records.at(0).target, "b.example");
  EXPECT_EQ(answer.canonical_name, "www.example");
}

TEST(DnsMessage, ChainEndingOutsideTheMessageAsksToFollow) {
  Message m = question("www.example", kA);
  m.answers.push_back(Rr{wire("www.example"), kCNAME, 80, wire("elsewhere.test")});
  Answer answer = read(m, "www.example", Type::kA);
  EXPECT_EQ(answer.status, Status::kNoData);
  EXPECT_EQ(answer.follow_cname, "elsewhere.test");
  EXPECT_EQ(answer.canonical_name, "elsewhere.test");
  EXPECT_EQ(answer.ttl, 80u);

  // With the target zone's SOA the server has looked: a final NODATA.
  m.authority.push_back(Rr{wire("test"), kSOA, 600, soa_rdata(300)});
  answer = read(m, "www.example", Type::kA);
  EXPECT_EQ(answer.status, Status::kNoData);
  EXPECT_TRUE(answer.follow_cname.empty());
  EXPECT_EQ(answer.ttl, 80u);
}

TEST(DnsMessage, CnameLoopIsATemporaryFailure) {
  Message m = question("a.example", kA);
  m.answers.push_back(Rr{wire("a.example"), kCNAME, 80, wire("b.example")});
  m.answers.push_back(Rr{wire("b.example"), kCNAME, 80, wire("A.example")});
  const Answer answer = read(m, "a.example", Type::kA);
  EXPECT_EQ(answer.status, Status::kTempFail);
  EXPECT_EQ(answer.error, "CNAME loop");
  EXPECT_EQ(answer.ttl, 0u);
}

TEST(DnsMessage, CnameChainIsLimited) {
  auto chain = [](int links) {
    Message m = question("n0.example", kA);
    for (int i = 0; i < links; ++i) {
      m.answers.push_back(Rr{wire("n" + std::to_string(i) + ".example"), kCNAME, 80,
                             wire("n" + std::to_string(i + 1) + ".example")});
    }
    m.answers.push_back(
        Rr{wire("n" + std::to_string(links) + ".example"), kA, 80, a_rdata("192.0.2.1")});
    return read(m, "n0.example", Type::kA);
  };
  EXPECT_EQ(chain(16).status, Status::kOk);
  const Answer answer = chain(17);
  EXPECT_EQ(answer.status, Status::kTempFail);
  EXPECT_EQ(answer.error, "CNAME chain too long");
}

TEST(DnsMessage, NxDomainTakesTheNegativeTtlFromTheSoa) {
  Message m = question("nothing.example", kA);
  m.rcode = 3;
  m.authority.push_back(Rr{wire("example"), kSOA, 900, soa_rdata(300)});
  Answer answer = read(m, "nothing.example", Type::kA);
  EXPECT_EQ(answer.status, Status::kNxDomain);
  EXPECT_EQ(answer.ttl, 300u);
  EXPECT_TRUE(answer.records.empty());

  m.authority[0].ttl = 60;
  answer = read(m, "nothing.example", Type::kA);
  EXPECT_EQ(answer.ttl, 60u);

  m.authority.clear();
  answer = read(m, "nothing.example", Type::kA);
  EXPECT_EQ(answer.status, Status::kNxDomain);
  EXPECT_EQ(answer.ttl, 0u);
}

TEST(DnsMessage, NoDataIsNotAnError) {
  Message m = question("example", kAAAA);
  m.authority.push_back(Rr{wire("example"), kSOA, 900, soa_rdata(120)});
  // Records of other types for the name do not count.
  m.answers.push_back(Rr{wire("example"), kA, 300, a_rdata("192.0.2.1")});
  const Answer answer = read(m, "example", Type::kAAAA);
  EXPECT_EQ(answer.status, Status::kNoData);
  EXPECT_EQ(answer.ttl, 120u);
  EXPECT_TRUE(answer.follow_cname.empty());
}

TEST(DnsMessage, ServerFailuresAreTemporary) {
  for (auto [rcode, text] : {std::pair{2u, "SERVFAIL"},
                             {5u, "REFUSED"},
                             {4u, "NOTIMP"},
                             {1u, "FORMERR"},
                             {9u, "RCODE 9"}}) {
    Message m = question("example", kA);
    m.rcode = rcode;
    Answer answer = read(m, "example", Type::kA);
    EXPECT_EQ(answer.status, Status::kTempFail);
    EXPECT_EQ(answer.error, text);
    EXPECT_EQ(answer.ttl, 0u);
    m.question.clear();  // servers that refuse often drop the question
    answer = read(m, "example", Type::kA);
    EXPECT_EQ(answer.error, text);
  }
}

TEST(DnsMessage, QuestionMustMatch) {
  Message m = question("WWW.Example", kA);
  m.answers.push_back(Rr{wire("www.example"), kA, 300, a_rdata("192.0.2.1")});
  EXPECT_EQ(read(m, "www.EXAMPLE.", Type::kA).status, Status::kOk);

  Answer answer = read(m, "other.example", Type::kA);
  EXPECT_EQ(answer.status, Status::kTempFail);
  EXPECT_EQ(answer.error, "malformed answer: question does not match");
  answer = read(m, "www.example", Type::kAAAA);
  EXPECT_EQ(answer.error, "malformed answer: question does not match");

  m.question.clear();
  answer = read(m, "www.example", Type::kA);
  EXPECT_EQ(answer.error, "malformed answer: question count 0");
}

TEST(DnsMessage, RejectsQueriesAndTruncatedHeaders) {
  Message m = question("example", kA);
  m.flags = 0x0100;  // a query, not a response
  EXPECT_EQ(read(m, "example", Type::kA).error, "malformed answer: not a response");

  const Bytes bytes = question("example", kA).bytes();
  const Answer answer = read_answer(std::span(bytes.data(), 11), "example", Type::kA);
  EXPECT_EQ(answer.status, Status::kTempFail);
  EXPECT_EQ(answer.error, "malformed answer: truncated header");
}

TEST(DnsMessage, EveryTruncationIsMalformed) {
  Message m = question("example", kMX);
  m.answers.push_back(Rr{wire("example"), kMX, 300, mx_rdata(10, "mail.example")});
  m.authority.push_back(Rr{wire("example"), kSOA, 900, soa_rdata(120)});
  const Bytes bytes = m.bytes();
  ASSERT_EQ(read_answer(bytes, "example", Type::kMX).status, Status::kOk);
  for (size_t size = 0; size < bytes.size(); ++size) {
    const Answer answer = read_answer(std::span(bytes.data(), size), "example", Type::kMX);
    EXPECT_EQ(answer.status, Status::kTempFail) << size;
    EXPECT_TRUE(answer.error.starts_with("malformed answer: ")) << size << answer.error;
  }
}

TEST(DnsMessage, RejectsBadRdata) {
  auto one = [](uint16_t type, Bytes rdata) {
    Message m = question("example", type);
    m.answers.push_back(Rr{wire("example"), type, 300, std::move(rdata)});
    return read(m, "example", static_cast<Type>(type));
  };
  EXPECT_EQ(one(kA, Bytes{192, 0, 2, 1, 0}).error,
            "malformed answer: A record with rdlength other than 4");
  EXPECT_EQ(one(kA, Bytes{192, 0, 2}).status, Status::kTempFail);
  EXPECT_EQ(one(kAAAA, a_rdata("192.0.2.1")).error,
            "malformed answer: AAAA record with rdlength other than 16");
  Bytes ptr = wire("host.example");
  ptr.push_back(7);
  EXPECT_EQ(one(kPTR, ptr).error, "malformed answer: trailing data in rdata");
  EXPECT_EQ(one(kTXT, Bytes{5, 'a', 'b'}).error,
            "malformed answer: TXT string runs past its rdata");
  EXPECT_EQ(one(kMX, Bytes{0, 10}).error, "malformed answer: truncated MX record");

  // A name in rdata that runs past the rdata into the rest of the message.
  Message m = question("example", kPTR);
  Bytes name = wire("host.example");
  m.answers.push_back(Rr{wire("example"), kPTR, 300, Bytes(name.begin(), name.begin() + 5)});
  m.answers.push_back(Rr{wire("example"), kA, 300, a_rdata("192.0.2.1")});
  EXPECT_EQ(read(m, "example", Type::kPTR).status, Status::kTempFail);

  // Malformed records elsewhere in the message spoil it too.
  Message bad_soa = question("example", kA);
  bad_soa.rcode = 3;
  bad_soa.authority.push_back(Rr{wire("example"), kSOA, 300, Bytes{0, 0, 0}});
  EXPECT_EQ(read(bad_soa, "example", Type::kA).error,
            "malformed answer: SOA record of the wrong length");
}

TEST(DnsMessage, ReadsCompressedNames) {
  Message m = question("www.example", kMX);
  m.answers.push_back(Rr{Bytes{0xC0, 12}, kMX, 300, Bytes{0, 5, 4, 'm', 'a', 'i', 'l', 0xC0, 16}});
  const Answer answer = read(m, "www.example", Type::kMX);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  EXPECT_EQ(answer.records.at(0).name, "www.example");
  EXPECT_EQ(answer.records.at(0).target, "mail.example");
}

TEST(DnsMessage, SurvivesCompressionLoops) {
  // The question ends at offset 12 + 9 + 4 = 25; the answer's owner starts
  // there and points at itself.
  Message m = question("example", kA);
  m.answers.push_back(Rr{Bytes{0xC0, 25}, kA, 300, a_rdata("192.0.2.1")});
  Answer answer = read(m, "example", Type::kA);
  EXPECT_EQ(answer.status, Status::kTempFail);
  EXPECT_EQ(answer.error, "malformed answer: compression loop");

  // A loop that carries a label each round: stopped by the name length.
  Message labelled = question("example", kA);
  labelled.answers.push_back(Rr{Bytes{1, 'x', 0xC0, 25}, kA, 300, a_rdata("192.0.2.1")});
  answer = read(labelled, "example", Type::kA);
  EXPECT_EQ(answer.error, "malformed answer: name too long");

  Message beyond = question("example", kA);
  beyond.answers.push_back(Rr{Bytes{0xC0, 0xFF}, kA, 300, a_rdata("192.0.2.1")});
  EXPECT_EQ(read(beyond, "example", Type::kA).error, "malformed answer: name runs past the end");

  Message label_type = question("example", kA);
  label_type.answers.push_back(Rr{Bytes{0x41, 0}, kA, 300, a_rdata("192.0.2.1")});
  EXPECT_EQ(read(label_type, "example", Type::kA).error, "malformed answer: bad label type");
}

TEST(DnsMessage, RejectsNamesOverTheLimit) {
  std::string long_label(63, 'a');
  Message m = question("example", kPTR);
  // 4 labels of 63 = 256 octets with the length octets, 257 with the root.
  m.answers.push_back(
      Rr{wire("example"), kPTR, 300, labels({long_label, long_label, long_label, long_label})});
  EXPECT_EQ(read(m, "example", Type::kPTR).error, "malformed answer: name too long");

  m.answers[0].rdata = labels({long_label, long_label, long_label, std::string(61, 'b')});
  const Answer answer = read(m, "example", Type::kPTR);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;  // exactly 255
}

TEST(DnsMessage, EscapesNamesInPresentationForm) {
  Message m = question("", kPTR);
  m.question = labels({"A.b", "x y", "back\\slash", std::string("\x01\xff", 2), "Example"});
  m.answers.push_back(Rr{m.question, kPTR, 300, labels({"T\"ab", "example"})});
  const std::string asked = "a\\.B.x\\032y.back\\\\slash.\\001\\255.example.";
  const Answer answer = read(m, asked, Type::kPTR);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  EXPECT_EQ(answer.records.at(0).name, "a\\046b.x\\032y.back\\092slash.\\001\\255.example");
  EXPECT_EQ(answer.canonical_name, answer.records[0].name);
  EXPECT_EQ(answer.records[0].target, "t\"ab.example");
  // The escaped form reads back as the same name.
  EXPECT_EQ(read(m, answer.canonical_name, Type::kPTR).status, Status::kOk);
}

TEST(DnsMessage, IgnoresOtherClassesAndClampsTtls) {
  Message m = question("example", kA);
  m.answers.push_back(Rr{wire("example"), kA, 0x80000000u, a_rdata("192.0.2.1")});
  m.answers.push_back(Rr{wire("example"), kA, 300, Bytes{1, 2, 3}, 3});  // CHAOS, not checked
  const Answer answer = read(m, "example", Type::kA);
  ASSERT_EQ(answer.status, Status::kOk) << answer.error;
  ASSERT_EQ(answer.records.size(), 1u);
  EXPECT_EQ(answer.ttl, 0u);
}

TEST(DnsMessage, InvalidQuestionNamesFail) {
  const Bytes bytes = question("example", kA).bytes();
  EXPECT_EQ(read_answer(bytes, "a..example", Type::kA).error, "invalid query name");
  EXPECT_EQ(read_answer(bytes, std::string(64, 'a') + ".example", Type::kA).status,
            Status::kTempFail);
}

TEST(DnsWire, EncodesPresentationNames) {
  std::string out;
  ASSERT_TRUE(wire::append_name("A\\.b.x\\032.", out));
  EXPECT_EQ(out, std::string("\x03"
                             "A.b\x02x \x00",
                             8));
  out.clear();
  ASSERT_TRUE(wire::append_name(".", out));
  EXPECT_EQ(out, std::string(1, '\0'));
  out.clear();
  EXPECT_FALSE(wire::append_name("a\\25", out));
  EXPECT_FALSE(wire::append_name("a\\256", out));
  EXPECT_FALSE(wire::append_name(".a", out));
  EXPECT_FALSE(wire::append_name("a\\", out));
  EXPECT_TRUE(out.empty());
  const std::string query = wire::query(0xabcd, "example", 15);
  EXPECT_EQ(query, std::string("\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                               "\x07"
                               "example\x00\x00\x0f\x00\x01",
                               12 + 9 + 4));
}

TEST(DnsNames, ReversesAddresses) {
  EXPECT_EQ(reversed_address("192.0.2.10"), "10.2.0.192");
  EXPECT_EQ(reverse_name("192.0.2.10"), "10.2.0.192.in-addr.arpa");
  EXPECT_EQ(reversed_address("2001:db8::1"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
  EXPECT_EQ(reverse_name("2001:DB8::1"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  // IPv4-mapped stays IPv6: nibbles under ip6.arpa.
  EXPECT_EQ(reverse_name("::ffff:192.0.2.1"),
            "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
  for (const char* bad : {"", "192.0.2", "192.0.2.256", "example.com", "fe80::1%eth0", "[::1]"}) {
    EXPECT_EQ(reversed_address(bad), "") << bad;
    EXPECT_EQ(reverse_name(bad), "") << bad;
  }
}

TEST(DnsNames, CanonicalAndTypeNames) {
  EXPECT_EQ(canonical("Mail.Example.COM."), "mail.example.com");
  EXPECT_EQ(canonical("mail.example.com"), "mail.example.com");
  EXPECT_EQ(canonical("."), "");
  EXPECT_EQ(canonical("a\\."), "a\\.");
  EXPECT_EQ(canonical("a\\\\."), "a\\\\");
  EXPECT_EQ(type_name(Type::kMX), "MX");
  EXPECT_EQ(type_name(Type::kAAAA), "AAAA");
  EXPECT_EQ(type_name(Type::kTXT), "TXT");
  Record record;
  record.type = Type::kMX;
  EXPECT_EQ(address_text(record), "");
}

}  // namespace
}  // namespace moat::dns
