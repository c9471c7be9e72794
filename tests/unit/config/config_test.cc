#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "config/parameters.h"

namespace moat::config {
namespace {

using std::chrono::seconds;
using List = std::vector<std::string>;

std::vector<std::string> problem_texts(const LoadResult& result) {
  std::vector<std::string> texts;
  for (const Problem& problem : result.problems) texts.push_back(problem.to_string());
  return texts;
}

TEST(ConfigTest, EmptyFileLoadsCleanlyWithDefaults) {
  LoadResult result = Config::load_text("", "main.cf");
  ASSERT_TRUE(result.ok()) << testing::PrintToString(problem_texts(result));
  EXPECT_TRUE(result.problems.empty()) << testing::PrintToString(problem_texts(result));
  const Config& config = *result.config;
  EXPECT_EQ(config.get("mail_name"), "moat");
  EXPECT_EQ(config.get_integer("message_size_limit"), 10240000);
  EXPECT_EQ(config.get_time("smtpd_timeout"), seconds(300));
  EXPECT_EQ(config.get("smtpd_forbid_bare_newline"), "yes");
  EXPECT_EQ(config.get_list("mynetworks"), (List{"127.0.0.0/8", "[::1]/128"}));
  EXPECT_EQ(config.get_list("moat_smtp_listen"), (List{"0.0.0.0:25", "[::]:25"}));
  EXPECT_TRUE(config.non_default_lines().empty());
}

TEST(ConfigTest, EveryTypedDefaultIsValid) {
  LoadResult result = Config::load_text("", "main.cf");
  ASSERT_TRUE(result.config);
  for (const ParameterSpec& spec : all_parameters()) {
    if (spec.type == ParameterType::kTime) {
      EXPECT_GE(result.config->get_time(spec.name), seconds(0)) << spec.name;
    }
  }
  EXPECT_TRUE(result.ok());
}

TEST(ConfigTest, ComputedHostNameIsFullyQualified) {
  LoadResult result = Config::load_text("", "main.cf");
  const Config& config = *result.config;
  const std::string& host = config.get("myhostname");
  ASSERT_NE(host.find('.'), std::string::npos) << host;
  EXPECT_EQ(config.get("mydomain"), host.substr(host.find('.') + 1));
  EXPECT_EQ(config.get("smtpd_banner"), host + " ESMTP moat");
  EXPECT_EQ(config.get("myorigin"), host);
}

TEST(ConfigTest, MydomainDefaultFollowsMyhostname) {
  LoadResult result = Config::load_text("myhostname = mx.example.com\n", "main.cf");
  const Config& config = *result.config;
  EXPECT_EQ(config.get("mydomain"), "example.com");
  EXPECT_EQ(config.get("mydestination"), "mx.example.com, localhost.example.com, localhost");
  EXPECT_EQ(config.get_list("mydestination"),
            (List{"mx.example.com", "localhost.example.com", "localhost"}));
}

TEST(ConfigTest, MydomainOfAOneLabelHostIsLocaldomain) {
  EXPECT_EQ(Config::load_text("myhostname = foo\n", "f").config->get("mydomain"), "localdomain");
  EXPECT_EQ(Config::load_text("myhostname = example.com\n", "f").config->get("mydomain"), "com");
}

TEST(ConfigTest, MyhostnameMayReferToASetMydomain) {
  LoadResult result = Config::load_text("mydomain = example.org\nmyhostname = mx.$mydomain\n", "f");
  ASSERT_TRUE(result.ok()) << testing::PrintToString(problem_texts(result));
  EXPECT_EQ(result.config->get("myhostname"), "mx.example.org");
}

TEST(ConfigTest, MyhostnameReferringToComputedMydomainIsALoop) {
  LoadResult result = Config::load_text("myhostname = mx.$mydomain\n", "main.cf");
  EXPECT_FALSE(result.ok());
}

TEST(ConfigTest, DefaultsReferToSetValues) {
  LoadResult result = Config::load_text("mynetworks = 10.0.0.0/8\n", "f");
  const Config& config = *result.config;
  EXPECT_EQ(config.get("smtpd_client_event_limit_exceptions"), "10.0.0.0/8");
  EXPECT_EQ(config.get("smtpd_forbid_bare_newline_exclusions"), "10.0.0.0/8");
}

// Postfix's own default, with Postfix's result: once the old name is set,
// ${old:$mynetworks} is empty (postconf -x shows the same).
TEST(ConfigTest, ColonDefaultIsEmptyOnceTheOldNameIsSet) {
  LoadResult result =
      Config::load_text("smtpd_client_connection_limit_exceptions = 192.0.2.0/24\n", "f");
  EXPECT_EQ(result.config->get("smtpd_client_event_limit_exceptions"), "");
  EXPECT_TRUE(result.problems.empty());
}

TEST(ConfigTest, LaterDuplicateOverridesWithAWarning) {
  LoadResult result =
      Config::load_text("myhostname = a.example\nmyhostname = b.example\n", "main.cf");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config->get("myhostname"), "b.example");
  EXPECT_EQ(result.config->line_of("myhostname"), 2);
  EXPECT_EQ(problem_texts(result),
            List{"main.cf:2: myhostname: warning: overriding earlier entry at line 1"});
}

TEST(ConfigTest, UnknownParameterNobodyUsesGetsAWarning) {
  LoadResult result = Config::load_text("a = 1\nb = 2\nfoo = bar\n", "main.cf");
  EXPECT_TRUE(result.ok());  // warnings only
  EXPECT_EQ(problem_texts(result), (List{"main.cf:1: a: warning: unused parameter",
                                         "main.cf:2: b: warning: unused parameter",
                                         "main.cf:3: foo: warning: unused parameter"}));
}

TEST(ConfigTest, UnknownParameterReferencedElsewhereIsUsed) {
  LoadResult result = Config::load_text(
      "my_access = hash:/etc/moat/access\n"
      "smtpd_recipient_restrictions = check_recipient_access ${my_access}, permit\n",
      "main.cf");
  EXPECT_TRUE(result.problems.empty()) << testing::PrintToString(problem_texts(result));
  EXPECT_EQ(result.config->get("my_access"), "hash:/etc/moat/access");
  EXPECT_EQ(result.config->get_list("smtpd_recipient_restrictions"),
            (List{"check_recipient_access", "hash:/etc/moat/access", "permit"}));
}

TEST(ConfigTest, ReferenceInsideConditionalTextCountsAsUse) {
  LoadResult result = Config::load_text("x = 1\nsmtpd_banner = ${mail_name?$x}\n", "f");
  EXPECT_TRUE(result.problems.empty()) << testing::PrintToString(problem_texts(result));
}

TEST(ConfigTest, SelfReferenceDoesNotCountAsUse) {
  LoadResult result = Config::load_text("x = ${x?1}\n", "f");
  EXPECT_FALSE(result.ok());
  bool warned = false;
  for (const Problem& problem : result.problems)
    warned = warned || problem.message == "unused parameter";
  EXPECT_TRUE(warned);
}

TEST(ConfigTest, RestrictionClassIsUsed) {
  LoadResult result = Config::load_text(
      "smtpd_restriction_classes = strict, relaxed\n"
      "strict = reject_unknown_sender_domain\n"
      "relaxed = permit\n",
      "main.cf");
  EXPECT_TRUE(result.problems.empty()) << testing::PrintToString(problem_texts(result));
  EXPECT_EQ(result.config->get("strict"), "reject_unknown_sender_domain");
}

TEST(ConfigTest, KnownParametersFromHardeningGuidesDoNotWarn) {
  LoadResult result = Config::load_text(
      "biff = no\nappend_dot_mydomain = no\nreadme_directory = no\n"
      "disable_vrfy_command = yes\nsmtpd_helo_required = yes\n"
      "smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\n"
      "smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key\n"
      "smtpd_tls_security_level=may\nsmtp_tls_CApath=/etc/ssl/certs\n"
      "smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache\n"
      "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/auth\n"
      "smtpd_sasl_auth_enable = yes\ninet_interfaces = all\ninet_protocols = all\n"
      "postscreen_dnsbl_sites = zen.spamhaus.org*3 bl.spamcop.net*1\n"
      "postscreen_dnsbl_threshold = 3\npostscreen_greet_action = enforce\n"
      "compatibility_level = 3.6\nalias_maps = hash:/etc/aliases\n",
      "main.cf");
  EXPECT_TRUE(result.ok());
  EXPECT_TRUE(result.problems.empty()) << testing::PrintToString(problem_texts(result));
}

TEST(ConfigTest, BadTimeValueIsAnErrorNamingTheValue) {
  LoadResult result = Config::load_text("\n\nsmtpd_timeout = 5x\n", "main.cf");
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.problems.size(), 1u);
  const Problem& problem = result.problems[0];
  EXPECT_EQ(problem.line, 3);
  EXPECT_EQ(problem.parameter, "smtpd_timeout");
  EXPECT_TRUE(problem.to_string().starts_with("main.cf:3: smtpd_timeout: bad time value \"5x\""))
      << problem.to_string();
}

TEST(ConfigTest, BadBooleanIntegerAndSizeAreErrors) {
  LoadResult result = Config::load_text(
      "smtpd_helo_required = maybe\nsmtpd_recipient_limit = lots\nmessage_size_limit = -1\n",
      "main.cf");
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.problems.size(), 3u);
  EXPECT_NE(result.problems[0].message.find("\"maybe\""), std::string::npos);
  EXPECT_NE(result.problems[1].message.find("\"lots\""), std::string::npos);
  EXPECT_NE(result.problems[2].message.find("\"-1\""), std::string::npos);
}

TEST(ConfigTest, TypesAreCheckedAfterExpansion) {
  LoadResult good = Config::load_text("t = 10\nsmtpd_timeout = ${t}m\n", "f");
  EXPECT_TRUE(good.ok());
  EXPECT_EQ(good.config->get_time("smtpd_timeout"), seconds(600));
  LoadResult bad = Config::load_text("t = x\nsmtpd_timeout = ${t}m\n", "f");
  EXPECT_FALSE(bad.ok());
}

TEST(ConfigTest, BadValueReachingADefaultIsReportedOnTheDefault) {
  LoadResult result = Config::load_text("smtpd_per_record_deadline = perhaps\n", "main.cf");
  EXPECT_FALSE(result.ok());
  ASSERT_FALSE(result.problems.empty());
  EXPECT_EQ(result.problems.back().parameter, "smtpd_per_request_deadline");
  EXPECT_EQ(result.problems.back().line, 0);
}

TEST(ConfigTest, BareTimeTakesTheParameterUnit) {
  LoadResult result =
      Config::load_text("delay_warning_time = 4\nmaximal_queue_lifetime = 2\n", "f");
  EXPECT_EQ(result.config->get_time("delay_warning_time"), seconds(4 * 3600));
  EXPECT_EQ(result.config->get_time("maximal_queue_lifetime"), seconds(2 * 86400));
}

TEST(ConfigTest, ReferenceLoopIsAnErrorAtTheParameterLine) {
  LoadResult result = Config::load_text("a = $b\nb = $a\nmyorigin = $a\n", "main.cf");
  EXPECT_FALSE(result.ok());
  int loops = 0;
  for (const Problem& problem : result.problems) {
    if (problem.message.starts_with("reference loop")) {
      ++loops;
      EXPECT_EQ(problem.line, problem.parameter == "a" ? 1 : 2);
    }
  }
  EXPECT_EQ(loops, 1);
  EXPECT_EQ(result.config->get("myorigin"), "");
}

TEST(ConfigTest, UnknownNameGivesEmptyText) {
  LoadResult result = Config::load_text("", "f");
  EXPECT_EQ(result.config->get("no_such_parameter"), "");
  EXPECT_EQ(result.config->line_of("no_such_parameter"), 0);
  EXPECT_EQ(result.config->get_integer("no_such_parameter"), 0);
}

TEST(ConfigTest, NonDefaultLinesAreSortedAndUnexpanded) {
  LoadResult result = Config::load_text(
      "myorigin = $mydomain\nrelayhost =\nmydomain = example.com\nzz_user = 1\n", "f");
  EXPECT_EQ(result.config->non_default_lines(),
            (List{"mydomain = example.com", "myorigin = $mydomain", "relayhost =", "zz_user = 1"}));
}

TEST(ConfigTest, RawParametersStayAsWritten) {
  LoadResult result =
      Config::load_text("smtpd_reject_footer = \\c For help see $client_address\n", "f");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config->get("smtpd_reject_footer"), "\\c For help see $client_address");
  EXPECT_EQ(result.config->get("default_rbl_reply"),
            "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using "
            "$rbl_domain${rbl_reason?; $rbl_reason}");
}

TEST(ConfigTest, RawParameterWithBrokenSyntaxIsAnError) {
  LoadResult result = Config::load_text("smtpd_reject_footer = ${client_address\n", "main.cf");
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].parameter, "smtpd_reject_footer");
  EXPECT_EQ(result.problems[0].line, 1);
}

TEST(ConfigTest, SyntaxErrorsComeThroughInLineOrder) {
  LoadResult result =
      Config::load_text("smtpd_timeout = 5x\nbroken line\nunused_one = 1\n", "main.cf");
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.problems.size(), 3u);
  EXPECT_EQ(result.problems[0].line, 1);
  EXPECT_EQ(result.problems[1].line, 2);
  EXPECT_EQ(result.problems[2].line, 3);
}

TEST(ConfigTest, ProblemAtPointsAtTheSettingLine) {
  LoadResult result = Config::load_text("\nrelayhost = [bad\n", "main.cf");
  Problem problem = result.config->problem_at("relayhost", "unbalanced '['");
  EXPECT_EQ(problem.to_string(), "main.cf:2: relayhost: unbalanced '['");
  EXPECT_EQ(result.config->problem_at("myorigin", "x").to_string(), "main.cf: myorigin: x");
}

TEST(ConfigTest, LoadFileReadsTheFile) {
  char path[] = "/tmp/moat_config_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "myhostname = mx.example.net\n";
  LoadResult result = Config::load_file(path);
  std::remove(path);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config->file_name(), path);
  EXPECT_EQ(result.config->get("mydomain"), "example.net");
}

TEST(ConfigTest, UnreadableFileGivesNoConfigAndAnError) {
  LoadResult result = Config::load_file("/nonexistent/main.cf");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.config, nullptr);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].to_string(),
            "/nonexistent/main.cf: cannot read file: No such file or directory");
}

TEST(ConfigTest, DirectoryIsUnreadable) {
  LoadResult result = Config::load_file("/tmp");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.config, nullptr);
}

}  // namespace
}  // namespace moat::config
