// The reference for bench/policy_bench.py: what a policy server costs when
// it does almost nothing. One thread, one io_context; greylisting as a hash
// set of (client_address, sender, recipient) in memory: unseen triplets get
// "DEFER_IF_PERMIT", seen ones "PREPEND X-Greylist: ..." (the answers moat
// gives), with no delay, no store, no log. The same client against it shows
// what the loopback transport and the protocol cost on this machine, so
// that moat's figures can be read against that ceiling.
//
//   policy_reference PORT      (serves 127.0.0.1:PORT until killed)
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_set>

namespace {

using asio::ip::tcp;

// The value of "name=" in one request; empty when absent.
std::string_view attribute(std::string_view request, std::string_view name) {
  for (size_t at = 0; at < request.size();) {
    const size_t end = std::min(request.find('\n', at), request.size());
    const std::string_view line = request.substr(at, end - at);
    if (line.size() > name.size() && line.starts_with(name) && line[name.size()] == '=') {
      return line.substr(name.size() + 1);
    }
    at = end + 1;
  }
  return {};
}

asio::awaitable<void> serve(tcp::socket socket, std::unordered_set<std::string>& seen) {
  std::string input, answers;
  char buffer[16384];
  for (;;) {
    asio::error_code ec;
    const size_t n = co_await socket.async_read_some(asio::buffer(buffer),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    input.append(buffer, n);
    answers.clear();
    size_t end;
    while ((end = input.find("\n\n")) != std::string::npos) {
      const std::string_view request(input.data(), end + 1);
      std::string key(attribute(request, "client_address"));
      key += '/';
      key += attribute(request, "sender");
      key += '/';
      key += attribute(request, "recipient");
      answers += seen.insert(std::move(key)).second
                     ? "action=DEFER_IF_PERMIT Greylisted\n\n"
                     : "action=PREPEND X-Greylist: delayed by the reference\n\n";
      input.erase(0, end + 2);
    }
    if (answers.empty()) continue;
    co_await asio::async_write(socket, asio::buffer(answers),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

asio::awaitable<void> listen(tcp::acceptor acceptor, std::unordered_set<std::string>& seen) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), seen), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: policy_reference PORT\n");
    return 2;
  }
  asio::io_context io(1);
  std::unordered_set<std::string> seen;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                           static_cast<unsigned short>(std::atoi(argv[1]))));
  asio::co_spawn(io, listen(std::move(acceptor), seen), asio::detached);
  std::printf("listening\n");
  std::fflush(stdout);
  io.run();
}
