#include "config/parameters.h"

#include <gtest/gtest.h>

#include "config/expand.h"

namespace moat::config {
namespace {

TEST(ParametersTest, TableIsSortedWithoutDuplicates) {
  auto parameters = all_parameters();
  for (std::size_t i = 1; i < parameters.size(); ++i)
    EXPECT_LT(parameters[i - 1].name, parameters[i].name) << parameters[i].name;
}

TEST(ParametersTest, FindsEveryParameterByName) {
  for (const ParameterSpec& spec : all_parameters()) {
    const ParameterSpec* found = find_parameter(spec.name);
    ASSERT_NE(found, nullptr) << spec.name;
    EXPECT_EQ(found->name, spec.name);
  }
}

TEST(ParametersTest, UnknownNameIsNotFound) {
  EXPECT_EQ(find_parameter("no_such_parameter"), nullptr);
  EXPECT_EQ(find_parameter(""), nullptr);
  EXPECT_EQ(find_parameter("zzzz"), nullptr);
  EXPECT_EQ(find_parameter("aaaa"), nullptr);
}

TEST(ParametersTest, EveryParameterHasADocLineAndAKnownTimeUnit) {
  for (const ParameterSpec& spec : all_parameters()) {
    EXPECT_FALSE(spec.doc.empty()) << spec.name;
    EXPECT_NE(std::string_view("smhdw").find(spec.time_unit), std::string_view::npos) << spec.name;
  }
}

TEST(ParametersTest, DefaultsHaveGoodSyntax) {
  for (const ParameterSpec& spec : all_parameters())
    EXPECT_EQ(scan_references(spec.default_value, [](std::string_view) {}), "") << spec.name;
}

TEST(ParametersTest, KeyDefaultsMatchThoseMoatPromises) {
  struct Expected {
    std::string_view name;
    ParameterType type;
    std::string_view value;
  };
  const Expected expected[] = {
      {"mynetworks", ParameterType::kList, "127.0.0.0/8 [::1]/128"},
      {"mail_name", ParameterType::kString, "moat"},
      {"smtpd_banner", ParameterType::kString, "$myhostname ESMTP $mail_name"},
      {"message_size_limit", ParameterType::kSize, "10240000"},
      {"smtpd_timeout", ParameterType::kTime, "300s"},
      {"smtpd_forbid_bare_newline", ParameterType::kString, "yes"},
      {"syslog_name", ParameterType::kString, "postfix"},
      {"relay_domains", ParameterType::kList, ""},
      {"moat_smtp_listen", ParameterType::kList, "0.0.0.0:25 [::]:25"},
      {"moat_workers", ParameterType::kInteger, "0"},
      {"moat_shutdown_timeout", ParameterType::kTime, "30s"},
      {"moat_local_maildir_base", ParameterType::kString, "/var/lib/moat/mail"},
      {"moat_delivery_threads", ParameterType::kInteger, "32"},
      {"smtpd_client_event_limit_exceptions", ParameterType::kList,
       "${smtpd_client_connection_limit_exceptions:$mynetworks}"},
  };
  for (const Expected& e : expected) {
    const ParameterSpec* spec = find_parameter(e.name);
    ASSERT_NE(spec, nullptr) << e.name;
    EXPECT_EQ(spec->type, e.type) << e.name;
    EXPECT_EQ(spec->default_value, e.value) << e.name;
  }
}

TEST(ParametersTest, TemplatesAreRaw) {
  EXPECT_TRUE(find_parameter("default_rbl_reply")->raw);
  EXPECT_TRUE(find_parameter("smtpd_reject_footer")->raw);
  EXPECT_FALSE(find_parameter("smtpd_banner")->raw);
}

TEST(ParametersTest, LongTimesUseTheirPostfixDefaultUnit) {
  EXPECT_EQ(find_parameter("maximal_queue_lifetime")->time_unit, 'd');
  EXPECT_EQ(find_parameter("delay_warning_time")->time_unit, 'h');
  EXPECT_EQ(find_parameter("smtpd_timeout")->time_unit, 's');
}

}  // namespace
}  // namespace moat::config
