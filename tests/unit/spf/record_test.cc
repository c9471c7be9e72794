#include "spf/record.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace moat::spf {
namespace {

RecordResult parse(std::string_view text) {
  return parse_record(text);
}

TEST(SpfSelect, NoSpfRecordIsNone) {
  const std::vector<std::string> txt = {"google-site-verification=abc", "v=spf10 -all",
                                        "v=spf1-all", " v=spf1 -all", "spf1 -all"};
  EXPECT_EQ(select_record(txt).status, RecordStatus::kNone);
  EXPECT_EQ(select_record(std::vector<std::string>{}).status, RecordStatus::kNone);
}

TEST(SpfSelect, VersionIsCaseInsensitiveAndEndsAtSpaceOrEnd) {
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_TRUE(is_spf_record("V=SpF1 -all"));
  EXPECT_FALSE(is_spf_record("v=spf1\t-all"));
  EXPECT_FALSE(is_spf_record("v=spf2.0/pra -all"));
  const std::vector<std::string> txt = {"other", "V=sPf1 -all"};
  const auto result = select_record(txt);
  ASSERT_EQ(result.status, RecordStatus::kOk);
  ASSERT_EQ(result.record.directives.size(), 1u);
  EXPECT_EQ(result.record.directives[0].qualifier, Qualifier::kFail);
}

TEST(SpfSelect, TwoSpfRecordsArePermError) {
  // OpenSPF suite multitxt1, multitxt2.
  EXPECT_EQ(select_record(std::vector<std::string>{"v=spf1 +all", "v=spf1 -all"}).status,
            RecordStatus::kPermError);
  EXPECT_EQ(select_record(std::vector<std::string>{"v=spf1 -all", "V=sPf1 +all"}).status,
            RecordStatus::kPermError);
  // Even when one of them is broken: selection comes before parsing.
  EXPECT_EQ(select_record(std::vector<std::string>{"v=spf1 ip4:1.2.3.4", "v=spf1 moo"}).status,
            RecordStatus::kPermError);
}

TEST(SpfRecord, EmptyRecordHasNoTerms) {
  for (const char* text : {"v=spf1", "v=spf1 ", "v=spf1    "}) {
    const auto result = parse(text);
    ASSERT_EQ(result.status, RecordStatus::kOk) << text;
    EXPECT_TRUE(result.record.directives.empty());
    EXPECT_FALSE(result.record.redirect);
  }
}

TEST(SpfRecord, QualifiersAndMechanisms) {
  const auto result = parse(
      "v=spf1 +all -include:_spf.example.com ~a ?mx ptr ip4:192.0.2.0/24 "
      "ip6:2001:db8::/32 exists:%{ir}.%{v}._spf.%{d2} a:mail.example.com mx:example.org/30//64 "
      "ptr:example.Com");
  ASSERT_EQ(result.status, RecordStatus::kOk) << result.error;
  const auto& d = result.record.directives;
  ASSERT_EQ(d.size(), 11u);
  EXPECT_EQ(d[0].qualifier, Qualifier::kPass);
  EXPECT_EQ(d[0].mechanism, Mechanism::kAll);
  EXPECT_EQ(d[1].qualifier, Qualifier::kFail);
  EXPECT_EQ(d[1].mechanism, Mechanism::kInclude);
  EXPECT_EQ(d[1].domain_spec, "_spf.example.com");
  EXPECT_EQ(d[2].qualifier, Qualifier::kSoftFail);
  EXPECT_EQ(d[2].mechanism, Mechanism::kA);
  EXPECT_EQ(d[2].domain_spec, "");
  EXPECT_EQ(d[2].cidr4, 32);
  EXPECT_EQ(d[2].cidr6, 128);
  EXPECT_EQ(d[3].qualifier, Qualifier::kNeutral);
  EXPECT_EQ(d[3].mechanism, Mechanism::kMx);
  EXPECT_EQ(d[4].qualifier, Qualifier::kPass);
  EXPECT_EQ(d[4].mechanism, Mechanism::kPtr);
  EXPECT_EQ(d[5].mechanism, Mechanism::kIp4);
  EXPECT_EQ(d[5].cidr4, 24);
  EXPECT_EQ(d[5].network[0], 192);
  EXPECT_EQ(d[5].network[3], 0);
  EXPECT_EQ(d[6].mechanism, Mechanism::kIp6);
  EXPECT_EQ(d[6].cidr6, 32);
  EXPECT_EQ(d[6].network[0], 0x20);
  EXPECT_EQ(d[6].network[3], 0xb8);
  EXPECT_EQ(d[7].mechanism, Mechanism::kExists);
  EXPECT_EQ(d[7].domain_spec, "%{ir}.%{v}._spf.%{d2}");
  EXPECT_EQ(d[8].domain_spec, "mail.example.com");
  EXPECT_EQ(d[9].mechanism, Mechanism::kMx);
  EXPECT_EQ(d[9].domain_spec, "example.org");
  EXPECT_EQ(d[9].cidr4, 30);
  EXPECT_EQ(d[9].cidr6, 64);
  EXPECT_EQ(d[10].domain_spec, "example.Com");
}

TEST(SpfRecord, NamesAreCaseInsensitive) {
  const auto result = parse(
      "v=spf1 A MX:example.com IP4:1.2.3.4 Include:x.example -ALL "
      "REDIRECT=example.net EXP=exp.example.net");
  ASSERT_EQ(result.status, RecordStatus::kOk) << result.error;
  EXPECT_EQ(result.record.directives.size(), 5u);
  EXPECT_EQ(result.record.redirect, "example.net");
  EXPECT_EQ(result.record.explanation, "exp.example.net");
}

TEST(SpfRecord, DualCidrLengths) {
  struct Case {
    const char* text;
    int cidr4, cidr6;
  };
  for (const Case& c : {Case{"v=spf1 a//33", 32, 33}, Case{"v=spf1 a/24//64", 24, 64},
                        Case{"v=spf1 a/24", 24, 128}, Case{"v=spf1 a/0", 0, 128},
                        Case{"v=spf1 a//0", 32, 0}, Case{"v=spf1 mx:foo.example.com/24", 24, 128},
                        Case{"v=spf1 a:foo.example.com//128", 32, 128},
                        Case{"v=spf1 a:foo.example.com/32//0", 32, 0}}) {
    const auto result = parse(c.text);
    ASSERT_EQ(result.status, RecordStatus::kOk) << c.text << ": " << result.error;
    ASSERT_EQ(result.record.directives.size(), 1u);
    EXPECT_EQ(result.record.directives[0].cidr4, c.cidr4) << c.text;
    EXPECT_EQ(result.record.directives[0].cidr6, c.cidr6) << c.text;
  }
}

TEST(SpfRecord, ColonAndSlashInsideDomainSpec) {
  // OpenSPF a-colon-domain: the '/' is part of the domain, not a cidr.
  const auto result = parse("v=spf1 a:foo:bar/baz.example.com mx:foo:bar/baz.example.com/24");
  ASSERT_EQ(result.status, RecordStatus::kOk) << result.error;
  EXPECT_EQ(result.record.directives[0].domain_spec, "foo:bar/baz.example.com");
  EXPECT_EQ(result.record.directives[1].domain_spec, "foo:bar/baz.example.com");
  EXPECT_EQ(result.record.directives[1].cidr4, 24);
}

TEST(SpfRecord, Ip4AndIp6Networks) {
  const auto result = parse(
      "v=spf1 ip4:1.1.1.1/0 ip4:255.255.255.255/32 ip6:::1.1.1.1/0 "
      "ip6:Cafe:Babe:8000::/33 ip6:::FFFF:1.2.3.4 ip4:10.0.0.1/8");
  ASSERT_EQ(result.status, RecordStatus::kOk) << result.error;
  const auto& d = result.record.directives;
  EXPECT_EQ(d[0].cidr4, 0);
  EXPECT_EQ(d[1].network[0], 255);
  EXPECT_EQ(d[2].cidr6, 0);
  EXPECT_EQ(d[2].network[12], 1);
  EXPECT_EQ(d[3].network[0], 0xca);
  EXPECT_EQ(d[3].cidr6, 33);
  EXPECT_EQ(d[4].network[10], 0xff);
  EXPECT_EQ(d[4].network[15], 4);
  EXPECT_EQ(d[5].network[3], 1);  // host bits are kept; the matcher masks
}

TEST(SpfRecord, Modifiers) {
  const auto result = parse(
      "v=spf1 -all redirect=_spf.example.com exp=explain._spf.%{d} moo.cow-far_out=man:dog/cat "
      "foo=%{c}%{r}%{t} x= ");
  ASSERT_EQ(result.status, RecordStatus::kOk) << result.error;
  EXPECT_EQ(result.record.redirect, "_spf.example.com");
  EXPECT_EQ(result.record.explanation, "explain._spf.%{d}");
  EXPECT_EQ(result.record.unknown_modifiers, 3u);
}

TEST(SpfRecord, MacroDomainSpecs) {
  for (const char* text :
       {"v=spf1 exists:%{i}.%{l2r-}.user.%{d2}", "v=spf1 exists:%{l2r+-}.user.%{d2}",
        "v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all", "v=spf1 include:%{d}",
        "v=spf1 exists:%{ir}.%{v}.%{L}.%{H}.example.", "v=spf1 a:foo.example.xn--zckzah -all",
        "v=spf1 redirect=%{d}", "v=spf1 exists:foo%%"}) {
    const auto result = parse(text);
    EXPECT_EQ(result.status, RecordStatus::kOk) << text << ": " << result.error;
  }
}

// Records the RFC's ABNF refuses (most from the OpenSPF rfc7208 suite).
TEST(SpfRecord, SyntaxErrorsArePermErrors) {
  const std::vector<std::string> records = {
      "v=spf1 a:\xef\xbb\xbfgarbage.example.net -all",
      "v=spf1 \x80"
      "a:example.net -all",
      "v=spf1 a:example.net \x96"
      "all",
      "v=spf1 a:ctrl.example.com\rptr -all",
      "v=spf1 ip4:192.0.2.5\n include:spf.protection.outlook.com ~all",
      "v=spf1 ip4:1.2.3.4 -all moo",
      "v=spf1 moo.cow/far_out=man:dog/cat ip4:1.2.3.4 -all",
      "v=spf1 moo.cow:far_out=man:dog/cat ip4:1.2.3.4 -all",
      "v=spf1 ip4:1.2.3.4 redirect:t2.example.com",
      "v=spf1 a:foo-bar -all",
      "v=spf1 -all.",
      "v=spf1 -all:foobar",
      "v=spf1 -all/8",
      "v=spf1 ptr/0 -all",
      "v=spf1 ptr:",
      "v=spf1 a/33 -all",
      "v=spf1 a//129 -all",
      "v=spf1 a/24/64 -all",
      "v=spf1 a:example.com:8080",
      std::string("v=spf1 a:foo.example.com\0", 25),
      "v=spf1 a:111.222.33.44",
      "v=spf1 a:abc.123",
      "v=spf1 a:example.-com",
      "v=spf1 a:museum",
      "v=spf1 a:museum.",
      "v=spf1 a:",
      "v=spf1 include +all",
      "v=spf1 include:ip5.example.com/24 -all",
      "v=spf1 include: -all",
      "v=spf1 mx/33 -all",
      "v=spf1 mx//129 -all",
      "v=spf1 mx:example.com:8080",
      "v=spf1 mx:abc.123",
      "v=spf1 mx: -all",
      "v=spf1 exists:",
      "v=spf1 exists",
      "v=spf1 exists:mail.example.com/24",
      "v=spf1 ip4:1.2.3.4/33 -all",
      "v=spf1 ip4:1.2.3.4/032 -all",
      "v=spf1 ip4",
      "v=spf1 ip4:1.2.3.4:8080",
      "v=spf1 ip4:1.2.3",
      "v=spf1 ip4:1.2.3.4//32",
      "v=spf1 -all ip6",
      "v=spf1 ip6:::1.1.1.1/129",
      "v=spf1 ip6:::1.1.1.1//33",
      "v=spf1 ip6::CAFE::BABE",
      "v=spf1 redirect=-all ?all",
      "v=spf1 1up=foo",
      "v=spf1 =all",
      "v=spf1 exp= -all",
      "v=spf1 exp=-all",
      "v=spf1 exp=e13msg.example.com -all exp=e11msg.example.com",
      "v=spf1 ?all redirect=",
      "v=spf1 redirect=e12.example.com -all redirect=e12.example.com",
      "v=spf1 -all foo=%abc",
      "v=spf1 -all exp=%{r}.example.com",
      "v=spf1 -exists:%(ir).sbl.example.com ?all",
      "v=spf1 exists:foo%(ir).sbl.example.com ?all",
      "v=spf1 exists:foo%.sbl.example.com ?all",
      "v=spf1 a:%{a}.example.com -all",
      // Beyond the suite.
      "v=spf1 ip4:01.2.3.4",
      "v=spf1 ip4:256.2.3.4",
      "v=spf1 ip4:1.2.3.4/",
      "v=spf1 ip4:1.2.3.4/-1",
      "v=spf1 ip6:2001:db8::/01",
      "v=spf1 ip6:2001:db8::/1280",
      "v=spf1 ip6:1.2.3.4",
      "v=spf1 ip4:::1",
      "v=spf1 a//",
      "v=spf1 a/",
      "v=spf1 a/24//",
      "v=spf1 a:example.com/",
      "v=spf1 a:example.com/24/",
      "v=spf1 --all",
      "v=spf1 +",
      "v=spf1 +redirect=example.com",
      "v=spf1 exists:%{d0}.example.com",
      "v=spf1 exists:%{c}.example.com",
      "v=spf1 exists:%{t}.example.com",
      "v=spf1 exists:%{d",
      "v=spf1 exists:%{dx}.example.com",
      "v=spf1 exists:%{d2r.-x}.example.com",
      "v=spf1 a:example.com%",
      "v=spf1 all\t",
      "v=spf1 -all exp=%{d}.example.com exp=%{d}",
  };
  for (const std::string& text : records) {
    const auto result = parse(text);
    EXPECT_EQ(result.status, RecordStatus::kPermError) << text;
    EXPECT_FALSE(result.error.empty()) << text;
  }
}

TEST(SpfRecord, TrailingAndRepeatedSpacesAreFine) {
  const auto result = parse("v=spf1  ip4:192.0.2.5    -all  ");
  ASSERT_EQ(result.status, RecordStatus::kOk) << result.error;
  EXPECT_EQ(result.record.directives.size(), 2u);
}

TEST(SpfRecord, BoundsOnTermsAndLength) {
  std::string many = "v=spf1";
  for (size_t i = 0; i < kMaxTerms; ++i) many += " a";
  EXPECT_EQ(parse(many).status, RecordStatus::kOk);
  many += " a";
  EXPECT_EQ(parse(many).status, RecordStatus::kPermError);
  std::string long_record = "v=spf1 " + std::string(kMaxRecordLength, ' ');
  EXPECT_EQ(parse(long_record).status, RecordStatus::kPermError);
  // A long but legal record (concatenated TXT strings) parses.
  std::string long_ok = "v=spf1";
  for (int i = 0; i < 200; ++i) long_ok += " ip4:192.0.2." + std::to_string(i);
  const auto result = parse(long_ok);
  ASSERT_EQ(result.status, RecordStatus::kOk);
  EXPECT_EQ(result.record.directives.size(), 200u);
}

TEST(SpfRecord, NotAnSpfRecordIsNone) {
  EXPECT_EQ(parse("v=spf10").status, RecordStatus::kNone);
  EXPECT_EQ(parse("").status, RecordStatus::kNone);
}

TEST(SpfRecord, MechanismNames) {
  EXPECT_EQ(mechanism_name(Mechanism::kExists), "exists");
  EXPECT_EQ(mechanism_name(Mechanism::kIp6), "ip6");
}

}  // namespace
}  // namespace moat::spf
