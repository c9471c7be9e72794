"""Test harness for moat's integration tests and benchmarks.

Starts the real `moat` binary and the real Postfix on ephemeral loopback
ports, each in its own temporary directory, and talks SMTP to them over raw
sockets. Everything started here stops by itself: the servers are context
managers, are registered with atexit, and every wait is bounded.

    from harness import MoatServer, PostfixServer, RawClient, dialogue
    from harness import NsdServer   # the test DNS world (tests/fixtures/dns/)

Standard library only; runs under /usr/bin/python3.
"""

from .moat import MoatServer, default_moat_binary
from .nsd import NsdServer, SilentDnsServer, dns_query, nsd_available
from .postfix import PostfixServer, postfix_available
from .smtp import CLOSED, SILENT, Data, RawClient, Reply, Send, SmtpError, data_body, dialogue

__all__ = [
    "CLOSED",
    "Data",
    "MoatServer",
    "NsdServer",
    "PostfixServer",
    "RawClient",
    "Reply",
    "SILENT",
    "Send",
    "SilentDnsServer",
    "SmtpError",
    "data_body",
    "default_moat_binary",
    "dialogue",
    "dns_query",
    "nsd_available",
    "postfix_available",
]
